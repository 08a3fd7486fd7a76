import { test, expect } from "@playwright/test";
import { ChildProcess, execSync, spawn } from "child_process";
import { ADMIN, isSameDocument, markDocument, signIn, waitForHydration } from "./helpers";

// The live status stream reconnects by itself after a server restart: this spec runs its own
// server (the same binary, database and key file across the restart) so that it can stop and
// start it while the page stays open.

const PORT = 3106;
const BASE = `http://127.0.0.1:${PORT}`;
const BIN = "./target/debug/exchange-connector";
const ENV = {
  ...process.env,
  LEPTOS_SITE_ADDR: `127.0.0.1:${PORT}`,
  LEPTOS_SITE_ROOT: "target/site",
  LEPTOS_ENV: "PROD",
  DATABASE_URL: "sqlite://end2end/.data/reconnect.db",
  SECRET_KEY_FILE: "end2end/.data/reconnect.key",
  EXO_SIM_DEVICES: "60",
  EXO_SIM_MAILBOXES: "40",
  EXO_SIM_CLOCK: "frozen",
  SYNC_SCHEDULE: "off",
  RUST_LOG: "warn",
};

let server: ChildProcess | undefined;

function start(): ChildProcess {
  return spawn(BIN, [], { cwd: "..", env: ENV, stdio: "ignore" });
}

async function up() {
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${BASE}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the server did not start");
}

async function stop() {
  const s = server;
  if (!s || s.exitCode !== null) return;
  const exited = new Promise((r) => s.once("exit", r));
  s.kill("SIGTERM");
  await exited;
}

test.beforeAll(async () => {
  execSync("rm -f end2end/.data/reconnect.db* end2end/.data/reconnect.key", { cwd: ".." });
  execSync(`printf '%s\\n' '${ADMIN.password}' | ${BIN} admin create --email ${ADMIN.email}`, {
    cwd: "..",
    env: ENV,
    stdio: "ignore",
  });
  server = start();
  await up();
});

test.afterAll(stop);

test("after a server restart the open page gets live updates again, without a reload", async ({ page }) => {
  await signIn(page, ADMIN);
  const setUp = await page.request.post("/api/connector/set-up", { headers: { accept: "application/json" } });
  expect(setUp.status(), await setUp.text()).toBe(200);
  await page.goto("/");
  await waitForHydration(page);
  await markDocument(page);
  const lastSync = page.getByTestId("last-sync").locator("time");
  const before = await lastSync.getAttribute("datetime");
  expect(before).toBeTruthy();

  await stop();
  server = start();
  await up();
  // The browser retries the stream on its own (a few seconds); give it time to come back.
  await page.waitForTimeout(6_000);

  const sync = await page.request.post("/api/connector/sync", {
    form: { kind: "fullSync" },
    headers: { accept: "application/json" },
  });
  expect(sync.status(), await sync.text()).toBe(200);
  await expect(lastSync).not.toHaveAttribute("datetime", before!, { timeout: 15_000 });
  expect(await isSameDocument(page), "the page must not have been reloaded").toBe(true);
});
