import { test, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { READER, ensureConnector, signIn, waitForHydration } from "./helpers";

// The Exchange access page against the simulator (its own server and tenant, shared with the
// device actions spec): settings and rules read from Exchange, each change previewed from the
// stored devices, then applied in Exchange and read back.

const ACCESS = "/conditional-access/exchange-access";
const DEVICES = "/conditional-access/devices";

test.describe.configure({ mode: "serial" });

const preview = (page: Page) => page.getByTestId("access-preview");
const changing = async (page: Page) => Number(await page.getByTestId("preview-changing").getAttribute("data-count"));

test.describe("with JavaScript", () => {
  test.beforeEach(async ({ page }) => {
    await signIn(page);
    await ensureConnector(page);
  });

  test("a new rule from a value the sync saw is previewed, applied in Exchange and counted, then deleted", async ({ page }) => {
    await page.goto(ACCESS);
    await waitForHydration(page);
    await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Exchange access" }))
      .toHaveAttribute("aria-current", "page");
    await expect(page.getByTestId("default-access-level")).toHaveText("Allow");
    const rulesBefore = await page.getByTestId("rule-row").count();

    // The most common device type the sync saw, as offered with its count.
    await page.getByText("Values the last sync saw").click();
    const types = page.locator('[data-testid=seen-values][data-characteristic="DeviceType"] li');
    await expect(types.first()).toBeVisible();
    const value = (await types.first().locator("span").first().textContent())!.trim();

    const form = page.getByRole("form", { name: "New device access rule" });
    await form.getByLabel("Characteristic").selectOption("DeviceType");
    await form.getByLabel("Value").fill(value);
    await form.getByLabel("Access level").selectOption("Quarantine");
    await form.getByRole("button", { name: "Preview new rule" }).click();
    await expect(page).toHaveURL(/change=newRule/);
    await expect(preview(page)).toContainText(`New rule ${value} (DeviceType)`);
    const n = await changing(page);
    expect(n).toBeGreaterThan(0);
    await expect(preview(page).getByText("Left as they are")).toBeVisible();

    // The devices the preview counts open in the device list, limited to them; then back.
    await preview(page).getByRole("link", { name: new RegExp(`^Open the ${n} devices? in the device list$`) }).click();
    await expect(page).toHaveURL((url) => url.pathname === DEVICES && url.searchParams.get("change") === "newRule");
    await expect(page.getByTestId("change-scope")).toContainText(`New rule ${value} (DeviceType)`);
    await expect(page.getByTestId("devices-count")).toHaveAttribute("data-count", String(n));
    for (const text of await page.getByTestId("device-row").allTextContents()) expect(text).toContain(value);
    await page.getByRole("link", { name: "Back to the preview" }).click();
    await expect(page).toHaveURL((url) => url.pathname === ACCESS && url.searchParams.get("change") === "newRule");
    await expect(page.getByTestId("preview-changing")).toHaveAttribute("data-count", String(n));

    await preview(page).getByRole("button", { name: "Apply in Exchange" }).click();
    await expect(page.getByTestId("action-report")).toHaveAttribute("data-ok", "true");
    await expect(page.getByTestId("action-report")).toContainText("Exchange made the change (1 call).");
    await expect(page).toHaveURL((url) => url.pathname === ACCESS && url.search === "");
    const row = page.getByTestId("rule-row").filter({ hasText: `${value} (DeviceType)` });
    await expect(row).toContainText("Quarantine");
    await expect(page.getByTestId("rule-row")).toHaveCount(rulesBefore + 1);
    // Read back from Exchange: the rule decides the devices the preview counted.
    await expect(row.getByTestId("rule-matches")).toHaveAttribute("data-decides", String(n));

    await row.getByRole("button", { name: "Preview delete" }).click();
    await expect(preview(page)).toContainText(`Delete rule ${value} (DeviceType)`);
    await expect(page.getByTestId("preview-changing")).toHaveAttribute("data-count", String(n));
    await preview(page).getByRole("button", { name: "Apply in Exchange" }).click();
    await expect(page.getByTestId("action-report")).toHaveAttribute("data-ok", "true");
    await expect(page.getByTestId("rule-row")).toHaveCount(rulesBefore);
  });

  test("a bad address is named with its field and nothing is sent; Cancel leaves everything as it was", async ({ page }) => {
    await page.goto(ACCESS);
    await waitForHydration(page);
    await page.getByText("Change the settings").click();
    const form = page.getByRole("form", { name: "Change the organization settings" });
    await form.getByLabel("Admin mail recipients").fill("helpdesk@contoso.com, not an address");
    await form.getByRole("button", { name: "Preview change" }).click();
    await expect(page.getByRole("alert")).toContainText("Admin mail recipients");
    await expect(page.getByRole("alert")).toContainText('"not" is not a mail address');
    await expect(preview(page)).toHaveCount(0);

    await form.getByLabel("Admin mail recipients").fill("helpdesk@contoso.com");
    await form.getByLabel("Default access level").selectOption("Quarantine");
    await form.getByRole("button", { name: "Preview change" }).click();
    await expect(preview(page)).toContainText("Default access level: “Allow” → “Quarantine”");
    expect(await changing(page)).toBeGreaterThan(0);
    await expect(page.getByTestId("preview-grandfathered")).toBeVisible();
    await preview(page).getByRole("link", { name: "Cancel" }).click();
    await expect(preview(page)).toHaveCount(0);
    await expect(page.getByTestId("default-access-level")).toHaveText("Allow");
  });

  test("the page with a preview passes axe-core's WCAG 2.1 AA rules", async ({ page }) => {
    await page.goto(`${ACCESS}?change=settings&default_access_level=Block&grandfather_days=30`);
    await waitForHydration(page);
    await expect(preview(page)).toBeVisible();
    for (const d of await page.locator("details").all()) await d.locator("summary").first().click();
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    expect(results.violations).toEqual([]);
  });

  test("a reader sees the settings and rules but no form", async ({ browser }) => {
    const context = await browser.newContext();
    const reader = await context.newPage();
    await signIn(reader, READER);
    await reader.goto(ACCESS);
    await waitForHydration(reader);
    await expect(reader.getByTestId("access-settings")).toBeVisible();
    await expect(reader.getByTestId("access-rules")).toBeVisible();
    await expect(reader.getByRole("form")).toHaveCount(0);
    await expect(reader.getByRole("button", { name: /Preview/ })).toHaveCount(0);
    await context.close();
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the default is previewed through a plain form, applied with grandfathering, and read back", async ({ page }) => {
    await signIn(page);
    await ensureConnector(page);
    await page.goto(ACCESS);
    await page.getByText("Change the settings").click();
    const form = page.getByRole("form", { name: "Change the organization settings" });
    await form.getByLabel("Default access level").selectOption("Block");
    await form.getByLabel("Keep allowed (days)").fill("30");
    await form.getByRole("button", { name: "Preview change" }).click();
    await expect(page).toHaveURL(/change=settings/);
    await expect(preview(page)).toContainText("Default access level: “Allow” → “Block”");
    const grandfathered = Number(await page.getByTestId("preview-grandfathered").getAttribute("data-count"));
    expect(grandfathered).toBeGreaterThan(0);

    await preview(page).getByRole("button", { name: "Apply in Exchange" }).click();
    await expect(page).toHaveURL(/applied=done/);
    await expect(page.getByTestId("action-report")).toContainText("Exchange made the change");
    await expect(page.getByTestId("default-access-level")).toHaveText("Block");

    // Back to Allow for the specs that follow (nothing to grandfather then); the form keeps
    // the recipients Exchange has.
    await page.getByText("Change the settings").click();
    await form.getByLabel("Default access level").selectOption("Allow");
    await form.getByLabel("Keep allowed (days)").fill("");
    await form.getByRole("button", { name: "Preview change" }).click();
    await expect(preview(page)).toContainText("Default access level: “Block” → “Allow”");
    await expect(preview(page)).not.toContainText("Admin mail recipients");
    await preview(page).getByRole("button", { name: "Apply in Exchange" }).click();
    await expect(page).toHaveURL(/applied=done/);
    await expect(page.getByTestId("default-access-level")).toHaveText("Allow");
  });
});
