import { strict as assert } from "node:assert";
import { formatSighting, parseSightings, SightingsFormatError } from "../../../host-tools/src/match/sightings";
import { PrivateTracerError } from "../../../host-tools/src/errors";

const FULL = "8be6cd371c5c891604bfbe49df845096";

describe("sightings interchange format (JSON Lines)", () => {
  it("reads full RPIs and prefixes, with and without AEM, skipping blank lines", () => {
    const text = [
      `{"time": 1585785660, "rpi": "${FULL}", "rssi": -62, "aem": "72033874"}`,
      "",
      `{"time": 1585785700.5, "rpi": "8be6cd371c", "rssi": -80}`,
      "   ",
      `{"time": 1585785800, "rpi": "8BE6CD371C5C", "rssi": -70, "aem": null, "extra": "ignored"}`
    ].join("\n");
    const s = parseSightings(text);
    assert.equal(s.length, 3);
    assert.equal(Buffer.from(s[0].rpi).toString("hex"), FULL);
    assert.equal(Buffer.from(s[0].aem!).toString("hex"), "72033874");
    assert.equal(s[0].line, 1);
    assert.equal(s[1].rpi.length, 5);
    assert.equal(s[1].time, 1585785700.5);
    assert.equal(s[1].aem, undefined);
    assert.equal(s[2].line, 5);
    assert.equal(s[2].rpi.length, 6);
  });

  it("round-trips through the writer", () => {
    const line = formatSighting({ time: 1585785660, rpi: Buffer.from(FULL, "hex"), rssi: -62, aem: Buffer.from("72033874", "hex") });
    const [s] = parseSightings(line);
    assert.equal(formatSighting(s), line);
    const counted = formatSighting({ time: 1585785660, rpi: Buffer.from(FULL.slice(0, 10), "hex"), rssi: -62, aemTx: 0x31, packets: 4 });
    const [c] = parseSightings(counted);
    assert.equal(c.packets, 4);
    assert.equal(formatSighting(c), counted);
  });

  it("takes packets as a whole number from 1 to 255, and rejects anything else by line", () => {
    const line = (packets: string): string => `{"time": 1585785660, "rpi": "${FULL}", "rssi": -62, "packets": ${packets}}`;
    assert.equal(parseSightings(line("8"))[0].packets, 8);
    assert.equal(
      parseSightings(`{"time": 1585785660, "rpi": "${FULL}", "rssi": -62}`)[0].packets,
      undefined,
      "absent: the classifier takes 1"
    );
    for (const bad of ["0", "2.5", "256", '"3"', "-1"]) {
      assert.throws(
        () => parseSightings(line(bad), "s.jsonl"),
        (e: unknown) =>
          e instanceof SightingsFormatError && /s\.jsonl:1: "packets" must be a whole number of packets from 1 to 255/.test(e.message),
        bad
      );
    }
  });

  it("rejects the whole file, naming every bad line by number", () => {
    const text = [
      `{"time": 1585785660, "rpi": "${FULL}", "rssi": -62}`,
      `{"time": 1585785660, "rpi": "8be6cd37", "rssi": -62}`,
      `not json`,
      `{"time": "yesterday", "rpi": "${FULL}", "rssi": -62}`,
      `{"time": 1585785660, "rpi": "${FULL}", "rssi": -62, "aem": "7203"}`,
      `{"time": 1585785660, "rpi": "zz${FULL.slice(2)}", "rssi": -62}`,
      `{"time": 1585785660, "rpi": "${FULL}"}`,
      `[1, 2]`,
      `{"time": 1585785660, "rpi": "${FULL}00", "rssi": -62}`
    ].join("\n");
    let err: unknown;
    try {
      parseSightings(text, "log.jsonl");
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof SightingsFormatError);
    assert.ok(err instanceof PrivateTracerError);
    assert.equal(err.code, "SIGHTINGS_MALFORMED");
    assert.equal(err.kind, "unusable");
    assert.deepEqual(
      err.problems.map((p) => p.line),
      [2, 3, 4, 5, 6, 7, 8, 9]
    );
    assert.match(err.problems[0].message, /"rpi" has 4 byte\(s\), expected 5 to 16/);
    assert.match(err.problems[1].message, /not valid JSON/);
    assert.match(err.problems[2].message, /"time" must be unix seconds/);
    assert.match(err.problems[3].message, /"aem" has 2 byte\(s\), expected 4/);
    assert.match(err.problems[4].message, /not an even-length hex string/);
    assert.match(err.problems[5].message, /"rssi" must be a number/);
    assert.match(err.problems[6].message, /must be a JSON object/);
    assert.match(err.problems[7].message, /17 byte/);
    assert.match(err.message, /log\.jsonl:2: /);
    assert.match(err.message, /8 bad sighting line\(s\); nothing was matched/);
  });

  it("rejects times in milliseconds (which would match nothing), saying so with the line number", () => {
    const ms = 1585785660123;
    const text = [
      `{"time": 1585785660, "rpi": "${FULL}", "rssi": -62}`,
      `{"time": ${ms}, "rpi": "${FULL}", "rssi": -62}`,
      `{"time": 4000000001, "rpi": "${FULL}", "rssi": -62}`
    ].join("\n");
    let err: unknown;
    try {
      parseSightings(text, "ms.jsonl");
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof SightingsFormatError, "the file is rejected");
    assert.deepEqual(
      err.problems.map((p) => p.line),
      [2, 3]
    );
    assert.match(err.message, /ms\.jsonl:2: "time" 1585785660123 is after 4000000000 .*looks like milliseconds \(1585785660\.123 s\?\)/);
    assert.doesNotMatch(err.problems[1].message, /milliseconds/);
    assert.equal(parseSightings(`{"time": 4000000000, "rpi": "${FULL}", "rssi": -62}`).length, 1, "the limit itself is accepted");
  });

  it("shortens the message for a file full of errors but keeps every problem", () => {
    const text = Array.from({ length: 50 }, () => "{}").join("\n");
    assert.throws(
      () => parseSightings(text),
      (e: unknown) => e instanceof SightingsFormatError && e.problems.length === 50 && /and 30 more/.test(e.message)
    );
  });
});
