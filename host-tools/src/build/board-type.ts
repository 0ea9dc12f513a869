import * as fs from "node:fs";
import * as path from "node:path";
import { compile } from "json-schema-to-typescript";
import { boardConfigDir } from "../paths";

/**
 * The board config's TypeScript type is generated from board.schema.json, so
 * the shape is written once (the schema, which also validates every config).
 * The result is committed as board-config.generated.ts; a spec regenerates it
 * and fails when it is stale. `make board-type` rewrites it.
 */
export const GENERATED_FILE = path.join(__dirname, "board-config.generated.ts");

export async function boardConfigTypeSource(): Promise<string> {
  const schema = JSON.parse(fs.readFileSync(path.join(boardConfigDir, "board.schema.json"), "utf8")) as Parameters<typeof compile>[0];
  return compile(schema, "BoardConfig", {
    bannerComment: "/* Generated from board-configs/board.schema.json by host-tools/src/build/board-type.ts (`make board-type`): do not edit. */",
    additionalProperties: false
  });
}

if (require.main === module) {
  boardConfigTypeSource().then((src) => fs.writeFileSync(GENERATED_FILE, src));
}
