import { test, expect } from "@playwright/test";
import { ADMIN, signIn, waitForHydration } from "./helpers";

// "Your account": a person changes their own password; a wrong current password is refused
// at its field; afterwards only the new password signs in.

const PERSON = { email: "pat@e2e.test", password: "pat's first password" };
const NEW_PASSWORD = "pat's second password";

test("a person changes their own password from the header's link", async ({ page, browser }) => {
  await signIn(page, ADMIN);
  const added = await page.request.post("/api/users/add", {
    form: { email: PERSON.email, role: "reader", password: PERSON.password },
    headers: { accept: "application/json" },
  });
  expect(added.status(), await added.text()).toBe(200);
  await page.context().clearCookies();

  await signIn(page, PERSON);
  await page.goto("/");
  await waitForHydration(page);
  await page.getByTestId("current-user").getByRole("link", { name: PERSON.email }).click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("account-email")).toHaveText(PERSON.email);
  await expect(page.getByTestId("account-methods")).toHaveText("Password");

  const form = page.getByRole("form", { name: "Change your password" });
  await form.getByLabel("Current password").fill("not the password");
  await form.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await form.getByLabel("New password again").fill(NEW_PASSWORD);
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByTestId("current_password-error")).toHaveText("The current password is not right.");

  await form.getByLabel("Current password").fill(PERSON.password);
  await form.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await form.getByLabel("New password again").fill(NEW_PASSWORD);
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("status")).toContainText("Your password was changed.");
  await expect(form.getByLabel("Current password")).toHaveValue("");

  // Only the new password signs in now.
  const other = await browser.newContext();
  const old = await other.request.post(`${test.info().project.use.baseURL}/api/auth/sign-in`, {
    form: { email: PERSON.email, password: PERSON.password },
    headers: { accept: "application/json" },
  });
  expect(old.status()).toBe(400);
  const fresh = await other.request.post(`${test.info().project.use.baseURL}/api/auth/sign-in`, {
    form: { email: PERSON.email, password: NEW_PASSWORD },
    headers: { accept: "application/json" },
  });
  expect(fresh.status()).toBe(200);
  await other.close();
});
