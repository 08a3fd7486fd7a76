import { defineConfig, devices } from "@playwright/test";

// Three real servers (the debug build made by `cargo leptos build`), each with its own SQLite
// file under end2end/.data:
//   3100: embedded simulator (demo tenant)             -> the hydrated set-up flow
//   3101: Exchange configured at a closed port           -> the readable error
//   3102: embedded simulator                             -> the page with JavaScript off
//   3103: embedded simulator answering slowly            -> a sync's live progress
//   3104: embedded simulator, EXO_AUTH_MODE=delegated    -> set-up through the consent page,
//         and single sign-on with the simulator as the OpenID provider
//   3105: embedded simulator denying one cmdlet          -> the permission checklist
//   3107: embedded simulator                             -> the device list, a device's page and
//         readiness, hydrated and with JavaScript off (the specs set the connector up first);
//         API tokens made on the account page and used on the REST API; alert webhooks
//         added on Notifications and tested against a receiver the spec starts
//   3108: embedded simulator                             -> device actions and the Exchange access page (they change the tenant)
// Each starts with an admin and a reader created by `exchange-connector admin create`.
// 3106 is started and restarted by reconnect.spec.ts itself (the live stream across a restart).
import { ADMIN, READER, SIM_DEVICES } from "./tests/helpers";
const PORTS = { setUp: 3100, unreachable: 3101, noJs: 3102, live: 3103, delegated: 3104, denied: 3105, devices: 3107, actions: 3108 };

function server(port: number, name: string, env: Record<string, string>) {
  const bin = "./target/debug/exchange-connector";
  const create = (who: { email: string; password: string }, role: string) =>
    `printf '%s\\n' '${who.password}' | ${bin} admin create --email ${who.email} --role ${role}`;
  return {
    command: [
      `rm -f end2end/.data/${name}.db* end2end/.data/${name}.key`,
      create(ADMIN, "admin"),
      create(READER, "reader"),
      `exec ${bin}`,
    ].join(" && "),
    cwd: "..",
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe" as const,
    env: {
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: "target/site",
      LEPTOS_ENV: "PROD",
      DATABASE_URL: `sqlite://end2end/.data/${name}.db`,
      SECRET_KEY_FILE: `end2end/.data/${name}.key`,
      RUST_LOG: "info",
      ...env,
    },
  };
}

// Slow device pages and statistics: a sync lasts a few seconds, long enough to watch it move.
const slow = "slow=500ms:1.0:Get-MobileDevice;slow=60ms:1.0:Get-MobileDeviceStatistics";
const simulated = {
  EXO_SIM_DEVICES: String(SIM_DEVICES),
  EXO_SIM_MAILBOXES: "90",
  EXO_PAGE_SIZE: "50",
  EXO_SIM_CLOCK: "frozen",
  // Only set-up and the buttons sync: the tests count runs.
  SYNC_SCHEDULE: "off",
};

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 1,
  reporter: [["list"]],
  use: {
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    {
      name: "no-js",
      // Not devices-no-js.spec.ts, which runs against the devices server.
      testMatch: /(^|[\\/])no-js\.spec\.ts$/,
      use: { ...devices["Desktop Chrome"], javaScriptEnabled: false, baseURL: `http://127.0.0.1:${PORTS.noJs}` },
    },
    {
      name: "set-up",
      testMatch: /set-up\.spec\.ts/,
      use: { ...devices["Desktop Chrome"], baseURL: `http://127.0.0.1:${PORTS.setUp}` },
    },
    {
      name: "live",
      testMatch: /live-sync\.spec\.ts/,
      use: { ...devices["Desktop Chrome"], baseURL: `http://127.0.0.1:${PORTS.live}` },
    },
    {
      name: "unreachable",
      testMatch: /unreachable\.spec\.ts/,
      use: { ...devices["Desktop Chrome"], baseURL: `http://127.0.0.1:${PORTS.unreachable}` },
    },
    {
      name: "reconnect",
      testMatch: /reconnect\.spec\.ts/,
      use: { ...devices["Desktop Chrome"], baseURL: "http://127.0.0.1:3106" },
    },
    {
      name: "delegated",
      testMatch: /(delegated|sso)\.spec\.ts/,
      use: { ...devices["Desktop Chrome"], baseURL: `http://127.0.0.1:${PORTS.delegated}` },
    },
    {
      name: "denied",
      testMatch: /(account|denied|sign-in|page-code)\.spec\.ts/,
      use: { ...devices["Desktop Chrome"], baseURL: `http://127.0.0.1:${PORTS.denied}` },
    },
    {
      name: "devices",
      testMatch: /(devices|api-tokens|notifications)\.spec\.ts/,
      use: { ...devices["Desktop Chrome"], baseURL: `http://127.0.0.1:${PORTS.devices}` },
    },
    {
      name: "devices-no-js",
      testMatch: /(devices|api-tokens|notifications)-no-js\.spec\.ts/,
      use: { ...devices["Desktop Chrome"], javaScriptEnabled: false, baseURL: `http://127.0.0.1:${PORTS.devices}` },
    },
    {
      name: "actions",
      testMatch: /(actions|exchange-access|policies)\.spec\.ts/,
      use: { ...devices["Desktop Chrome"], baseURL: `http://127.0.0.1:${PORTS.actions}` },
    },
  ],
  webServer: [
    server(PORTS.setUp, "set-up", simulated),
    server(PORTS.noJs, "no-js", simulated),
    server(PORTS.live, "live", { ...simulated, EXO_SIM_FAULTS: slow }),
    server(PORTS.delegated, "delegated", { ...simulated, EXO_AUTH_MODE: "delegated", OIDC_ISSUER_URL: "simulator" }),
    server(PORTS.denied, "denied", { ...simulated, EXO_SIM_DENY: "Set-ActiveSyncOrganizationSettings" }),
    server(PORTS.devices, "devices", simulated),
    server(PORTS.actions, "actions", simulated),
    server(PORTS.unreachable, "unreachable", {
      EXO_TENANT_ID: "unreachable.onmicrosoft.com",
      EXO_CLIENT_ID: "00000000-0000-0000-0000-000000000001",
      EXO_CLIENT_SECRET: "not-used-because-nothing-answers",
      EXO_AUTHORITY_URL: "http://127.0.0.1:9",
      EXO_ADMIN_API_URL: "http://127.0.0.1:9/adminapi/beta",
    }),
  ],
});


