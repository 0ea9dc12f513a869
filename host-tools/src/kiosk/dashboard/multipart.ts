/**
 * A small multipart/form-data reader for the one upload the dashboard takes
 * (an enrolment store and its passphrase): the body is already bounded by
 * the route's body limit, and only named text fields and files are kept.
 * (@fastify/multipart would be the general tool; one form does not need it.)
 */

export interface UploadedFile {
  filename: string;
  data: Buffer;
}

export type FormFields = Record<string, string | UploadedFile>;

/** The boundary of a multipart/form-data content type, or null. */
export function boundaryOf(contentType: string | undefined): string | null {
  const m = /boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType ?? "");
  return m ? (m[1] ?? m[2]) : null;
}

/** Parses `body`; null when it is not well-formed multipart for `boundary`. */
export function parseMultipart(body: Buffer, boundary: string): FormFields | null {
  const delimiter = Buffer.from(`--${boundary}`);
  const fields: FormFields = Object.create(null) as FormFields;
  let pos = body.indexOf(delimiter);
  if (pos < 0) return null;
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString() === "--") return fields;
    if (body.subarray(pos, pos + 2).toString() !== "\r\n") return null;
    pos += 2;
    const headEnd = body.indexOf("\r\n\r\n", pos);
    if (headEnd < 0) return null;
    const head = body.subarray(pos, headEnd).toString("utf8");
    const next = body.indexOf(Buffer.concat([Buffer.from("\r\n"), delimiter]), headEnd + 4);
    if (next < 0) return null;
    const data = body.subarray(headEnd + 4, next);
    const disposition = /content-disposition:\s*form-data;([^\r\n]*)/i.exec(head)?.[1] ?? "";
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    if (name !== undefined && !(name in fields))
      fields[name] = filename !== undefined ? { filename, data: Buffer.from(data) } : data.toString("utf8");
    pos = next + 2;
  }
}
