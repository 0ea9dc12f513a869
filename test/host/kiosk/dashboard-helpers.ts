import { strict as assert } from "node:assert";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";

/**
 * A staff member's browser for the dashboard specs, over fastify's inject:
 * a cookie jar, and the CSRF token of the last page read.
 */
export class Browser {
  readonly cookies = new Map<string, string>();
  csrf: string | null = null;

  constructor(private readonly app: FastifyInstance) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  private keep(res: LightMyRequestResponse): LightMyRequestResponse {
    for (const c of res.cookies as Array<{ name: string; value: string; maxAge?: number; expires?: Date }>) {
      if (c.value === "" || (c.expires && c.expires.getTime() < Date.now())) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    const m = /name="_csrf" value="([^"]+)"/.exec(res.body);
    if (m) this.csrf = m[1];
    return res;
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    return this.keep(await this.app.inject({ method: "GET", url, headers: { cookie: this.cookieHeader(), ...headers } }));
  }

  /** A form POST; the page's CSRF token is added unless `csrf` is given (null: none at all). */
  async post(url: string, form: Record<string, string>, csrf: string | null | undefined = undefined): Promise<LightMyRequestResponse> {
    const token = csrf === undefined ? this.csrf : csrf;
    const body = new URLSearchParams({ ...form, ...(token === null ? {} : { _csrf: token ?? "" }) }).toString();
    return this.keep(
      await this.app.inject({
        method: "POST",
        url,
        headers: { cookie: this.cookieHeader(), "content-type": "application/x-www-form-urlencoded" },
        payload: body
      })
    );
  }

  /** A multipart POST (the enrol form), with the page's CSRF token. */
  async upload(
    url: string,
    fields: Record<string, string>,
    file: { name: string; filename: string; data: Buffer }
  ): Promise<LightMyRequestResponse> {
    const boundary = "----specboundary7MA4YWxkTrZu0gW";
    const parts: Buffer[] = [];
    for (const [k, v] of Object.entries({ ...fields, _csrf: this.csrf ?? "" }))
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.name}"; filename="${file.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`
      ),
      file.data,
      Buffer.from(`\r\n--${boundary}--\r\n`)
    );
    return this.keep(
      await this.app.inject({
        method: "POST",
        url,
        headers: { cookie: this.cookieHeader(), "content-type": `multipart/form-data; boundary=${boundary}` },
        payload: Buffer.concat(parts)
      })
    );
  }

  async login(name: string, password: string): Promise<LightMyRequestResponse> {
    await this.get("/login");
    return this.post("/login", { name, password });
  }

  async loggedIn(name: string, password: string): Promise<void> {
    const r = await this.login(name, password);
    assert.equal(r.statusCode, 303, r.body);
    assert.equal(r.headers.location, "/");
  }
}

/** Cheap scrypt for specs: the stored costs are what is checked, so a spec need not wait 0.1 s a hash. */
export const CHEAP = { N: 1 << 10, r: 8, p: 1 };
