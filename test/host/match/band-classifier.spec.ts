import { strict as assert } from "node:assert";
import { bandMinutes, features, fitLogistic, predict, smoothedCredits, tokenFeatures } from "../../../host-tools/src/match/band-classifier";
import { Rng } from "../../../host-tools/src/sim/prng";
import { binCredits } from "../../../host-tools/src/sim/phone/phone-risk";

describe("match: a close-contact classifier from minutes per attenuation band", () => {
  it("puts each credited scan's time in its band", () => {
    const m = bandMinutes([
      { attenuationDb: 44, seconds: 300 },
      { attenuationDb: 45, seconds: 60 },
      { attenuationDb: 52, seconds: 120 },
      { attenuationDb: 90, seconds: 600 }
    ]);
    assert.deepEqual(m, [6, 0, 2, 0, 0, 0, 10]);
  });

  it("credits a token's scan at the packet-weighted mean of the pair's scans within 15 minutes of it", () => {
    // Two scans of one stay, 500 s apart (2 packets each), and a lone scan half an hour later (1 packet), given out of order.
    const scans = [
      { time: 3000, attenuationDb: 70, packets: 1, seconds: 300 },
      { time: 1000, attenuationDb: 50, packets: 2, seconds: 300 },
      { time: 1500, attenuationDb: 60, packets: 2, seconds: 300 }
    ];
    assert.deepEqual(smoothedCredits(scans), [
      { attenuationDb: 55, seconds: 300 },
      { attenuationDb: 55, seconds: 300 },
      { attenuationDb: 70, seconds: 300 }
    ]);
    // Both views go into the features: the 60 dB scan's 5 minutes move to the 51–55 dB band once smoothed.
    const x = tokenFeatures(scans);
    assert.equal(x.length, 14);
    assert.deepEqual(x.slice(0, 7), features([0, 5, 0, 5, 0, 5, 0]));
    assert.deepEqual(x.slice(7), features([0, 0, 10, 0, 0, 5, 0]));
  });

  it("learns that time at low attenuation means a close contact, and ranks held-out pair-days by it", () => {
    // Close contacts: ~30 min around 50 dB; others: ~60 min around 65 dB. Fit on one draw, judge on another.
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      const xs: number[][] = [];
      const ys: boolean[] = [];
      for (let i = 0; i < 400; i++) {
        const close = i % 4 === 0;
        const scans = Array.from({ length: close ? 7 : 14 }, () => ({
          attenuationDb: (close ? 50 : 65) + 6 * rng.normal(),
          seconds: 255
        }));
        xs.push(features(bandMinutes(scans)));
        ys.push(close);
      }
      return { xs, ys };
    };
    const train = draw(1);
    const model = fitLogistic(train.xs, train.ys);
    const test = draw(2);
    const p = test.xs.map((x) => predict(model, x));
    let wins = 0;
    let pairs = 0;
    for (let i = 0; i < p.length; i++)
      for (let j = 0; j < p.length; j++)
        if (test.ys[i] && !test.ys[j]) {
          pairs++;
          wins += p[i] > p[j] ? 1 : p[i] === p[j] ? 0.5 : 0;
        }
    assert.ok(wins / pairs > 0.9, `held-out AUC ${(wins / pairs).toFixed(3)}`);
    assert.deepEqual(fitLogistic(train.xs, train.ys), model, "the same data gives the same model");
  });
});

describe("sim/phone: a phone's seconds per attenuation feed the same bands", () => {
  it("binCredits gives each attenuation with its seconds", () => {
    const bins = new Uint32Array(128);
    bins[48] = 600;
    bins[66] = 300;
    assert.deepEqual(bandMinutes(binCredits(bins)), [0, 10, 0, 0, 0, 5, 0]);
  });
});
