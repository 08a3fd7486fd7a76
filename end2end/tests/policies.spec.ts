import { test, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { READER, ensureConnector, signIn, waitForHydration } from "./helpers";

// Mobile device mailbox policies on the Exchange access page, against the simulator (the
// actions server and tenant): created, changed with a value out of range refused at its field,
// then deleted; each change made in Exchange and read back.

const ACCESS = "/conditional-access/exchange-access";
const NAME = "Field staff e2e";

test.describe.configure({ mode: "serial" });

const policyRow = (page: Page, name: string) => page.locator(`[data-testid=policy-row][data-policy="${name}"]`);
const form = (page: Page) => page.getByTestId("policy-form");
const setting = (page: Page, key: string) => page.locator(`[data-testid=policy-setting][data-setting="${key}"]`);

test.describe("with JavaScript", () => {
  test.beforeEach(async ({ page }) => {
    await signIn(page);
    await ensureConnector(page);
  });

  test("an admin creates a policy, a value out of range is refused at its field, a valid one is saved, then the policy is deleted", async ({ page }) => {
    await page.goto(ACCESS);
    await waitForHydration(page);
    await expect(page.getByTestId("policy-default")).toHaveCount(1);
    await page.getByRole("link", { name: "New policy" }).click();
    await expect(page).toHaveURL(/policy=new/);
    await form(page).getByLabel("Name").fill(NAME);
    await form(page).getByLabel("Require a password").selectOption("true");
    await form(page).getByLabel("Minimum password length").fill("6");
    await form(page).getByRole("button", { name: "Create in Exchange" }).click();
    await expect(page.getByTestId("action-report")).toHaveAttribute("data-ok", "true");
    await expect(page.getByTestId("action-report")).toContainText(`Mailbox policy ${NAME} created`);
    await expect(page).toHaveURL((url) => url.pathname === ACCESS && !url.search.includes("policy="));
    await expect(policyRow(page, NAME).getByTestId("policy-min-length")).toHaveText("6");

    // Out of range: refused at the field, in Exchange's words; nothing changes.
    await policyRow(page, NAME).getByRole("link", { name: /Edit/ }).click();
    await expect(form(page)).toBeVisible();
    await waitForHydration(page);
    await form(page).getByLabel("Minimum password length").fill("8");
    await form(page).getByLabel("Lock after inactivity").fill("02:00:00");
    await form(page).getByRole("button", { name: "Save in Exchange" }).click();
    const error = setting(page, "MaxInactivityTimeLock").getByTestId("field-error");
    await expect(error).toContainText('The value "02:00:00" must be Unlimited or a time span (d.hh:mm:ss) from 00:01:00 to 01:00:00.');
    await expect(form(page).getByLabel("Lock after inactivity")).toHaveAttribute("aria-invalid", "true");
    await expect(policyRow(page, NAME).getByTestId("policy-lock")).toHaveText("Unlimited");
    // The other value typed is still there: only the refused one needs typing again.
    await expect(form(page).getByLabel("Minimum password length")).toHaveValue("8");

    await form(page).getByLabel("Lock after inactivity").fill("00:05:00");
    await form(page).getByRole("button", { name: "Save in Exchange" }).click();
    await expect(page.getByTestId("action-report")).toHaveAttribute("data-ok", "true");
    await expect(page.getByTestId("action-report")).toContainText("Lock after inactivity: Unlimited → 00:05:00");
    await expect(policyRow(page, NAME).getByTestId("policy-lock")).toHaveText("00:05:00");
    await expect(policyRow(page, NAME).getByTestId("policy-min-length")).toHaveText("8");
    await expect(error).toHaveCount(0);

    await form(page).getByRole("button", { name: "Delete this policy" }).click();
    await expect(page.getByTestId("action-report")).toContainText(`Mailbox policy ${NAME} deleted`);
    await expect(policyRow(page, NAME)).toHaveCount(0);
  });

  test("a policy's form passes axe-core's WCAG 2.1 AA rules", async ({ page }) => {
    await page.goto(ACCESS);
    await waitForHydration(page);
    await page.getByTestId("policy-row").first().getByRole("link", { name: /Edit/ }).click();
    await expect(form(page)).toBeVisible();
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    expect(results.violations).toEqual([]);
  });

  test("a reader sees the policies and their settings, with no form", async ({ browser }) => {
    const context = await browser.newContext();
    const reader = await context.newPage();
    await signIn(reader, READER);
    await reader.goto(ACCESS);
    await waitForHydration(reader);
    await expect(reader.getByTestId("access-policies")).toBeVisible();
    await reader.getByTestId("policy-row").first().getByRole("link", { name: /Settings/ }).click();
    await expect(reader.getByTestId("policy-settings")).toContainText("Minimum password length");
    await expect(reader.getByTestId("policy-form")).toHaveCount(0);
    await expect(reader.getByRole("link", { name: "New policy" })).toHaveCount(0);
    await context.close();
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("a value out of range comes back named at its field; a valid one is saved", async ({ page }) => {
    await signIn(page);
    await ensureConnector(page);
    await page.goto(ACCESS);
    const row = page.getByTestId("policy-row").filter({ has: page.getByTestId("policy-default") });
    const name = (await row.getAttribute("data-policy"))!;
    await row.getByRole("link", { name: /Edit/ }).click();
    const length = await form(page).getByLabel("Minimum password length").inputValue();
    const typedLength = length === "7" ? "9" : "7";
    await form(page).getByLabel("Minimum password length").fill(typedLength);
    await form(page).getByLabel("Previous passwords that cannot be reused").fill("51");
    await form(page).getByRole("button", { name: "Save in Exchange" }).click();
    await expect(page).toHaveURL(/applied=failed/);
    await expect(page).toHaveURL(/field=PasswordHistory/);
    await expect(setting(page, "PasswordHistory").getByTestId("field-error")).toContainText("must be a whole number from 0 to 50");
    // The page comes back with the values typed, the refused one included.
    await expect(form(page).getByLabel("Minimum password length")).toHaveValue(typedLength);
    await expect(form(page).getByLabel("Previous passwords that cannot be reused")).toHaveValue("51");

    const before = await form(page).getByLabel("Previous passwords that cannot be reused").inputValue();
    const next = before === "3" ? "4" : "3";
    await form(page).getByLabel("Previous passwords that cannot be reused").fill(next);
    await form(page).getByRole("button", { name: "Save in Exchange" }).click();
    await expect(page).toHaveURL(/applied=done/);
    await expect(page.getByTestId("action-report")).toContainText("Exchange made the change");
    await expect(form(page).getByLabel("Previous passwords that cannot be reused")).toHaveValue(next);
    await expect(form(page).getByLabel("Minimum password length")).toHaveValue(typedLength);
    await expect(policyRow(page, name)).toBeVisible();
  });
});
