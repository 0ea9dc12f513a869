import { strict as assert } from "node:assert";
import { dayWords, durationWords, levelText } from "../../../host-tools/src/kiosk/dashboard/words";

/** The dashboard's advice in the words a care worker reads: when and about how long, never who. */
describe("kiosk dashboard: the advice's words", () => {
  const T = 1_900_000_000;

  it("says how long in minutes and hours as people say it", () => {
    assert.equal(durationWords(1), "about 1 minute");
    assert.equal(durationWords(40), "about 40 minutes");
    assert.equal(durationWords(60), "about 1 hour");
    assert.equal(durationWords(75), "about 1 hour 15 minutes");
    assert.equal(durationWords(120), "about 2 hours");
  });

  it("names the day by weekday and date, in the UTC day the matcher counts in", () => {
    assert.equal(dayWords("2030-03-14"), "Thursday 14 March");
    assert.equal(dayWords("2026-11-24"), "Tuesday 24 November");
  });

  it("a low level with its exposure says when and how long, and why no test is needed", () => {
    const t = levelText({ label: "Mr C.", riskLevel: 1, riskReason: 1, riskAt: T - 60, exposureDay: "2030-03-14", exposureMinutes: 10 }, T);
    assert.equal(t.key, "low");
    assert.equal(
      t.advice,
      "No test needed now. Mr C. was near someone who tested positive on Thursday 14 March for about 10 minutes, but not close enough for long enough to need a test (warning given 1 minute ago). Watch for symptoms over the next days."
    );
  });

  it("without a kept exposure (a level from before the kiosk kept one) it still says what to do", () => {
    const t = levelText({ label: "", riskLevel: 2, riskReason: 3, riskAt: T, exposureDay: null, exposureMinutes: null }, T);
    assert.match(t.advice, /^Ask the wearer to take a test today; the kiosk found time near someone who tested positive/);
  });
});
