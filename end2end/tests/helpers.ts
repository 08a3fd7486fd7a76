import { expect, Page } from "@playwright/test";

/** The demo tenant's device count, as configured for the test servers. */
export const SIM_DEVICES = 137;

export const REQUIRED_CMDLETS = [
  "Get-ActiveSyncOrganizationSettings",
  "Set-ActiveSyncOrganizationSettings",
  "Get-MobileDeviceMailboxPolicy",
  "Set-MobileDeviceMailboxPolicy",
  "New-MobileDeviceMailboxPolicy",
  "Remove-MobileDeviceMailboxPolicy",
  "Get-ActiveSyncDeviceAccessRule",
  "Set-ActiveSyncDeviceAccessRule",
  "New-ActiveSyncDeviceAccessRule",
  "Remove-ActiveSyncDeviceAccessRule",
  "Get-MobileDeviceStatistics",
  "Get-MobileDevice",
  "Get-ActiveSyncDeviceClass",
];

/** Waits until the WebAssembly app has hydrated the server-rendered page. */
export async function waitForHydration(page: Page) {
  await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true");
}

/** Marks the current document so a test can tell whether the page was reloaded. */
export async function markDocument(page: Page) {
  await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
}

export async function isSameDocument(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument === true);
}
