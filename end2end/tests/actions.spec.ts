import { test, expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { READER, ensureConnector, signIn, waitForHydration } from "./helpers";

// Device actions against the simulator (its own server and tenant): what an admin changes in
// Exchange from a device's page, read back from Exchange and audited.

const DEVICES = "/conditional-access/devices";
const AUDIT_LOG = "/admin/audit-log";

test.describe.configure({ mode: "serial" });

/** The GUIDs of the listed devices in `state` (first page). */
async function devicesIn(page: Page, state: string): Promise<string[]> {
  await page.goto(`${DEVICES}?state=${state}`);
  const guids = await page
    .getByTestId("device-row")
    .evaluateAll((rs) => rs.map((r) => r.getAttribute("data-guid") ?? ""));
  expect(guids.length, `the demo tenant has ${state} devices`).toBeGreaterThan(0);
  return guids;
}

const badge = (page: Page) => page.getByTestId("device-title").locator("xpath=..").locator("[data-state]").first();
const report = (page: Page) => page.getByTestId("action-report");

async function openDevice(page: Page, guid: string) {
  await page.goto(`${DEVICES}/${guid}`);
  await waitForHydration(page);
  await expect(page.getByTestId("device-actions")).toBeVisible();
}

test.describe("with JavaScript", () => {
  test.beforeEach(async ({ page }) => {
    await signIn(page);
    await ensureConnector(page);
  });

  test("an admin blocks an allowed device, allows it again and clears it; each time Exchange's answer is on the page and in the audit log", async ({ page }) => {
    const [guid] = await devicesIn(page, "Allowed");
    await openDevice(page, guid);
    await expect(badge(page)).toHaveAttribute("data-state", "Allowed");
    const actions = page.getByTestId("device-actions");

    await actions.getByRole("button", { name: "Block", exact: true }).click();
    await expect(report(page)).toContainText("Exchange made the change (1 call).");
    await expect(report(page)).toHaveAttribute("data-ok", "true");
    await expect(report(page).getByRole("link", { name: "a quick sync" })).toBeVisible();
    // Read back from Exchange: the device is blocked, by its mailbox's blocked list.
    await expect(badge(page)).toHaveAttribute("data-state", "Blocked");
    await expect(page.getByTestId("why-summary")).toContainText(/blocked list/i);

    await actions.getByRole("button", { name: "Allow", exact: true }).click();
    await expect(badge(page)).toHaveAttribute("data-state", "Allowed");
    await expect(page.getByTestId("why-summary")).toContainText(/allowed list/i);
    await expect(report(page)).toHaveAttribute("data-ok", "true");

    await actions.getByRole("button", { name: "Clear individual setting" }).click();
    await expect(report(page)).toHaveAttribute("data-ok", "true");
    await expect(page.getByTestId("why-summary")).not.toContainText(/allowed list|blocked list/i);

    // Three Set-CASMailbox calls, each with Exchange's request id.
    await page.goto(AUDIT_LOG);
    const rows = page.getByTestId("audit-row").filter({ hasText: "Device action" }).filter({ hasText: "Set-CASMailbox" });
    await expect(rows).toHaveCount(3);
    await expect(rows.first()).toContainText("Request id");
  });

  test("three devices chosen in the list are blocked in one go, then cleared; the list shows Exchange's answer", async ({ page }) => {
    await page.goto(`${DEVICES}?state=Allowed`);
    await waitForHydration(page);
    const rows = page.getByTestId("device-row");
    const guids = (await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute("data-guid") ?? ""))).slice(0, 3);
    expect(guids.length).toBe(3);
    const bar = page.getByTestId("bulk-actions");
    await expect(page.getByTestId("bulk-count")).toHaveAttribute("data-count", "0");
    for (const g of guids) await page.locator(`[data-testid=device-row][data-guid="${g}"]`).getByTestId("device-choose").check();
    await expect(page.getByTestId("bulk-count")).toHaveText("3 devices chosen");
    await bar.getByLabel("Action").selectOption("block");
    await bar.getByRole("button", { name: "Run on the chosen devices" }).click();
    await expect(report(page)).toHaveAttribute("data-ok", "true");
    // Read back: the allowed list no longer has them, and the choice is gone.
    for (const g of guids) await expect(page.locator(`[data-testid=device-row][data-guid="${g}"]`)).toHaveCount(0);
    await expect(page.getByTestId("bulk-count")).toHaveAttribute("data-count", "0");

    await page.goto(`${DEVICES}?state=Blocked`);
    await waitForHydration(page);
    // "Choose every device on this page", then the three only.
    await page.getByLabel("Choose every device on this page").check();
    const all = await page.getByTestId("device-row").count();
    await expect(page.getByTestId("bulk-count")).toHaveAttribute("data-count", String(all));
    await page.getByLabel("Choose every device on this page").uncheck();
    for (const g of guids) {
      const row = page.locator(`[data-testid=device-row][data-guid="${g}"]`);
      await expect(row).toHaveAttribute("data-state", "Blocked");
      await row.getByTestId("device-choose").check();
    }
    await bar.getByLabel("Action").selectOption("clearIndividual");
    await bar.getByRole("button", { name: "Run on the chosen devices" }).click();
    await expect(report(page)).toHaveAttribute("data-ok", "true");
    for (const g of guids) await expect(page.locator(`[data-testid=device-row][data-guid="${g}"]`)).toHaveCount(0);

    // A wipe of the chosen devices needs the typed word; nothing is sent without it.
    await page.getByTestId("device-choose").first().check();
    await bar.getByLabel("Action").selectOption("wipe");
    await bar.getByRole("button", { name: "Run on the chosen devices" }).click();
    await expect(page.getByRole("alert")).toContainText("Type WIPE to confirm");
  });

  test("a wipe says what happens, needs the typed word, and can be cancelled", async ({ page }) => {
    const guids = await devicesIn(page, "Allowed");
    // The simulator refuses wipes on a few devices (IsRemoteWipeSupported false): find one it takes.
    let found = false;
    for (const guid of guids) {
      await openDevice(page, guid);
      if ((await page.locator('details[data-action="wipe"]').count()) > 0) {
        found = true;
        break;
      }
    }
    expect(found, "a device that supports remote wipe").toBe(true);

    const wipe = page.locator('details[data-action="wipe"]');
    await wipe.locator("summary").click();
    await expect(wipe).toContainText("Outlook for iOS and Android wipes at app level");
    await expect(wipe).toContainText("pending");
    const word = wipe.getByLabel("Type WIPE to confirm");
    await word.fill("wipe please");
    await wipe.getByRole("button", { name: "Wipe device" }).click();
    await expect(page.getByRole("alert")).toContainText(/confirmation/i);
    await expect(page.getByRole("alert")).toContainText("WIPE");

    await word.fill("WIPE");
    await wipe.getByRole("button", { name: "Wipe device" }).click();
    await expect(report(page)).toHaveAttribute("data-ok", "true");
    await expect(report(page)).toContainText("Exchange made the change (1 call).");
    // Read back: Get-MobileDeviceStatistics says the wipe is pending, and who asked.
    await expect(page.getByText("DeviceWipePending", { exact: true })).toBeVisible();

    await page.getByTestId("device-actions").getByRole("button", { name: "Cancel wipe" }).click();
    await expect(report(page)).toHaveAttribute("data-ok", "true");
    await expect(page.getByText("DeviceWipePending", { exact: true })).toHaveCount(0);

    const audit = await (await page.request.get(`${AUDIT_LOG}.csv`)).text();
    expect(audit).toContain("Clear-MobileDevice");
  });

  test("the device page with its actions open passes axe-core's WCAG 2.1 AA rules", async ({ page }) => {
    const [guid] = await devicesIn(page, "Allowed");
    await openDevice(page, guid);
    for (const d of await page.locator("[data-testid=device-actions] details").all()) await d.locator("summary").click();
    const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
    expect(results.violations).toEqual([]);
  });

  test("a reader sees no actions and the server refuses theirs", async ({ page, browser }) => {
    const [guid] = await devicesIn(page, "Allowed");
    const context = await browser.newContext();
    const reader = await context.newPage();
    await signIn(reader, READER);
    await reader.goto(`${DEVICES}/${guid}`);
    await waitForHydration(reader);
    await expect(reader.getByTestId("why-summary")).toBeVisible();
    await expect(reader.getByTestId("device-actions")).toHaveCount(0);
    const refused = await reader.request.post("/api/devices/act", {
      form: { devices: guid, action: "block" },
      headers: { accept: "application/json" },
    });
    expect(refused.status()).toBe(403);
    await context.close();
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the Block button is a form post that comes back to the device with Exchange's answer", async ({ page }) => {
    await signIn(page);
    await ensureConnector(page);
    const guids = await devicesIn(page, "Allowed");
    const guid = guids[guids.length - 1];
    await page.goto(`${DEVICES}/${guid}`);
    await page.getByTestId("device-actions").getByRole("button", { name: "Block", exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${DEVICES}/${guid}\\?action=done$`));
    await expect(report(page)).toContainText("Exchange made the change");
    await expect(badge(page)).toHaveAttribute("data-state", "Blocked");

    // A wrong word comes back with the reason, and nothing changed.
    const remove = page.locator('details[data-action="remove"]');
    await remove.locator("summary").click();
    await remove.getByLabel("Type REMOVE to confirm").fill("remove");
    await remove.getByRole("button", { name: "Remove partnership" }).click();
    await expect(page).toHaveURL(/action=failed/);
    await expect(page.getByRole("alert")).toContainText("REMOVE");
    await expect(page.getByTestId("device-removed")).toHaveCount(0);
  });
});
