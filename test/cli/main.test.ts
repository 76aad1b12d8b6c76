import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runCli } from "./run-cli.ts";

const commands = readdirSync("cli/commands").filter((f) => f.endsWith(".ts")).map((f) => f.slice(0, -3)).sort();

describe("botflow (dispatch)", () => {
  it("lists every command module found in cli/commands with its summary", async () => {
    const r = await runCli(["help"]);
    expect(r.code).toBe(0);
    expect(commands).toContain("validate");
    for (const name of commands) {
      const mod = (await import(`../../cli/commands/${name}.ts`)) as { summary: string };
      expect(r.stdout).toMatch(new RegExp(`^  ${name} +${mod.summary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
    }
    expect((await runCli(["--help"])).stdout).toBe(r.stdout);
  });

  it("prints the help to stderr and exits 2 when no command is given", async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("usage: botflow <command>");
  });

  it("exits 2 on an unknown command and names the commands there are", async () => {
    const r = await runCli(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`botflow: unknown command "frobnicate". Commands: ${commands.join(", ")}. Run "botflow help" for what each does.\n`);
  });

  it("never loads a module outside cli/commands from a crafted name", async () => {
    for (const name of ["../main", "Validate", "validate.ts", "-x", "a/b"]) {
      const r = await runCli([name]);
      expect(r.code, name).toBe(2);
      expect(r.stderr, name).toContain("unknown command");
    }
  });

  it("prints the package version", async () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    expect(await runCli(["--version"])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: "" });
  });

  it("shows a command's usage through help <command>", async () => {
    const r = await runCli(["help", "validate"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("usage: botflow validate");
  });
});
