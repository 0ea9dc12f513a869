import { Command, InvalidArgumentError } from "commander";
import { RunAction } from "../command";
import { UserError } from "../../errors";
import { PROFILE_ADVERT_MS, PROFILE_SCAN_MS, formatProfile, radioProfile } from "../../sim/radio-profile";
import { CARRIES, Carry } from "../../sim/world/propagation";
import { loadScenario } from "../../sim/world/scenario-load";

/** Seeds are mixed as 32-bit numbers (sim/prng.ts). */
const MAX_SEED = 0xffffffff;

function wholeNumber(name: string, min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max)
      throw new InvalidArgumentError(`--${name} must be a whole number from ${min} to ${max}, got "${v}"`);
    return n;
  };
}

interface ProfileOpts {
  json?: boolean;
  seed: number;
  hours: number;
  advertMs: number;
  scanMs: number;
  carry: string;
  scenario?: string;
}

export function register(program: Command, run: RunAction): void {
  const radio = program.command("radio").description("The simulator's radio model.");
  radio
    .command("profile")
    .description(
      "Sample the simulated radio between two people at 0.5–4 m and print the GAEN attenuation (median, std) per packet, per scan and over ≥ 2 scans in 10 min, and how well one threshold tells 1–2 m from 3–4 m, beside the measured figures of DP-3T's experiment 34."
    )
    .option("--json", "print one JSON object: distances, levels.{packet,scan,multiScan}.{median,std,bacc,auc}")
    .option("--seed <n>", "seed: the same seed gives the same profile", wholeNumber("seed", 0, MAX_SEED), 1)
    .option("--hours <n>", "simulated hours per distance", wholeNumber("hours", 1, 24 * 366), 72)
    .option(
      "--advert-ms <n>",
      `advertising interval, ms (default ${PROFILE_ADVERT_MS}, phone-like; a Puck.js token advertises every 1000)`,
      wholeNumber("advert-ms", 20, 10240),
      PROFILE_ADVERT_MS
    )
    .option("--scan-ms <n>", "scan window, ms", wholeNumber("scan-ms", 10, 60000), PROFILE_SCAN_MS)
    .option("--carry <where>", `where both devices are carried: ${CARRIES.join(", ")}`, "lanyard")
    .option("-s, --scenario <name|file>", "take the radio's settings (`propagation`) from this scenario instead of the defaults")
    .action(
      run((opts: ProfileOpts) => {
        if (!CARRIES.includes(opts.carry as Carry))
          throw new UserError(`--carry must be one of ${CARRIES.join(", ")}, got "${opts.carry}"`);
        const propagation = opts.scenario ? loadScenario(opts.scenario, opts.seed).propagation : undefined;
        const p = radioProfile({
          seed: opts.seed,
          hoursPerDistance: opts.hours,
          advertIntervalMs: opts.advertMs,
          scanWindowMs: opts.scanMs,
          carry: opts.carry as Carry,
          propagation
        });
        process.stdout.write(opts.json ? JSON.stringify(p) + "\n" : formatProfile(p) + "\n");
        return "ok";
      })
    );
}
