// The linter for every TypeScript and JavaScript file we write. The firmware's
// Espruino-specific rules (no hoisting, no builtin prototypes, typed-array
// traps) are checked on the bundle and the typed program by `privatetracer
// build`; this file covers the habits of ordinary code.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: ["node_modules/**", "dist/**", "build/**", "**/*.generated.ts", "test/fixtures/**"]
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Unused arguments are often part of a signature (callbacks, seams): only names starting with _ may go unused.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      // Firmware is ES5 for Espruino: `var` is the only declaration it has.
      "no-var": "off",
      "prefer-const": ["error", { destructuring: "all" }]
    }
  },
  {
    // ES5 programs run on the real interpreter (stand-ins, benchmarks, conformance programs).
    files: ["**/*.js"],
    languageOptions: {
      sourceType: "script",
      globals: {
        require: "readonly",
        module: "writable",
        __dirname: "readonly",
        process: "readonly",
        console: "readonly",
        print: "readonly",
        getTime: "readonly",
        setTime: "readonly",
        setTimeout: "readonly",
        setInterval: "readonly",
        clearTimeout: "readonly",
        clearInterval: "readonly",
        global: "readonly",
        E: "readonly",
        NRF: "writable",
        Bluetooth: "writable",
        quit: "readonly",
        LED1: "writable",
        LED2: "writable",
        LED3: "writable",
        BTN: "writable",
        BTN1: "writable",
        digitalWrite: "writable",
        setWatch: "writable",
        g: "writable",
        Buffer: "readonly"
      }
    },
    rules: {
      "@typescript-eslint/no-require-imports": "off"
    }
  },
  {
    // Conformance programs: each line evaluates something on both interpreters and
    // reports it with the prelude's t()/d() helpers (prepended when run).
    files: ["test/espruino/conformance/*.js"],
    languageOptions: { globals: { t: "readonly", d: "readonly", ds: "readonly", tname: "readonly", done: "readonly", __h: "readonly" } },
    rules: {
      "@typescript-eslint/no-unused-expressions": "off",
      "no-empty": "off",
      "no-unused-vars": "off",
      "@typescript-eslint/no-unused-vars": "off",
      "no-constant-condition": "off",
      "no-constant-binary-expression": "off",
      "no-const-assign": "off",
      "no-redeclare": "off",
      "no-undef": "off",
      "prefer-const": "off",
      "no-useless-assignment": "off",
      "no-unassigned-vars": "off"
    }
  }
);
