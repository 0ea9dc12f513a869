import { strict as assert } from "node:assert";
import { serveLiveCareHome } from "../../../host-tools/src/sim/kiosk/live-home";

/**
 * `kiosk serve --simulate care-home`: the real dashboard over the simulated
 * care home's kiosk, while the world runs. A person logs in with the printed
 * password and sees the residents the kiosk syncs.
 */
describe("kiosk serve --simulate care-home: the dashboard over a live simulated care home", function () {
  this.timeout(300_000);

  it("prints a login and a code, serves the residents while the world runs, and stops on request", async () => {
    const lines: string[] = [];
    const stop = new AbortController();
    const served = serveLiveCareHome({
      days: 1,
      seed: 1,
      speed: 1_000_000,
      board: "puckjs",
      port: 0,
      host: "127.0.0.1",
      signal: stop.signal,
      say: (l) => lines.push(l)
    });
    try {
      // Wait for the dashboard to come up.
      for (let i = 0; i < 600 && !lines.some((l) => l.startsWith("Dashboard:")); i++) await new Promise((r) => setTimeout(r, 100));
      const m = /^Dashboard: (http:\/\/127\.0\.0\.1:\d+)\/ \(log in as "staff", password (\S+)\)$/.exec(lines[0] ?? "");
      assert.ok(m, lines.join("\n"));
      assert.ok(
        lines.some((l) => /use the health authority's code [0-9A-Z]{4}(-[0-9A-Z]{4}){3}\./.test(l)),
        "a code to try a diagnosis with"
      );
      const [, base, password] = m;
      let cookie = "";
      const get = async (p: string): Promise<string> => {
        const r = await fetch(base + p, { headers: { cookie }, redirect: "manual" });
        cookie = r.headers.get("set-cookie")?.split(";")[0] ?? cookie;
        return r.text();
      };
      const login = await get("/login");
      const csrf = /name="_csrf" value="([^"]+)"/.exec(login)![1];
      const r = await fetch(base + "/login", {
        method: "POST",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ _csrf: csrf, name: "staff", password }).toString(),
        redirect: "manual"
      });
      assert.equal(r.status, 303, "the printed password logs in");
      cookie = r.headers.get("set-cookie")?.split(";")[0] ?? cookie;
      const seen = await get("/");
      assert.match(seen, /resident-01/);
      assert.match(seen, /staff-01-early/);
    } finally {
      stop.abort();
      await served;
    }
  });
});
