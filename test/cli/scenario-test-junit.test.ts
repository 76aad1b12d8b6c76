/**
 * `botflow test --reporter junit`: the XML parses (fast-xml-parser's validator and parser), its
 * counts and names match the run, each failure carries the test file's line:col and the diff,
 * and `--out FILE` writes it there while the text report goes to stdout.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { afterAll, describe, expect, it } from "vitest";
import { formatJunitReport } from "../../cli/scenario-test/junit-report.ts";
import { runCli } from "./run-cli.ts";

const FIX = "test/cli/fixtures/scenario-test";
const tmp = mkdtempSync(path.join(tmpdir(), "botflow-junit-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Failure {
  "@_message": string;
  "@_type": string;
  "#text": string;
}
interface TestCase {
  "@_name": string;
  "@_classname": string;
  "@_line": string;
  "@_time": string;
  failure?: Failure[];
}
interface Suite {
  "@_name": string;
  "@_tests": string;
  "@_failures": string;
  testcase: TestCase[];
}
interface Doc {
  testsuites: { "@_tests": string; "@_failures": string; "@_errors": string; testsuite: Suite[] };
}

function parse(xml: string): Doc {
  const valid = XMLValidator.validate(xml);
  expect(valid, JSON.stringify(valid)).toBe(true);
  const parser = new XMLParser({ ignoreAttributes: false, htmlEntities: true, isArray: (name) => ["testsuite", "testcase", "failure"].includes(name), trimValues: false });
  return parser.parse(xml) as Doc;
}

describe("botflow test --reporter junit", () => {
  it("prints JUnit XML alone on stdout: a suite per file, a case per case, failures with line:col and the diff", async () => {
    const r = await runCli(["test", `${FIX}/failing.test.yaml`, `${FIX}/channels.test.yaml`, "--reporter", "junit"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("");
    expect(r.stdout.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
    const doc = parse(r.stdout);
    expect(doc.testsuites["@_tests"]).toBe("14");
    expect(doc.testsuites["@_failures"]).toBe("5");
    expect(doc.testsuites["@_errors"]).toBe("0");
    const [failing, channels] = doc.testsuites.testsuite as [Suite, Suite];
    expect(failing["@_name"]).toBe(`${FIX}/failing.test.yaml`);
    expect([failing["@_tests"], failing["@_failures"]]).toEqual(["6", "5"]);
    expect([channels["@_tests"], channels["@_failures"]]).toEqual(["8", "0"]);
    expect(channels.testcase.every((c) => c.failure === undefined && /^[0-9]+\.[0-9]{3}$/.test(c["@_time"]))).toBe(true);

    expect(failing.testcase.map((c) => [c["@_name"], c["@_line"], (c.failure ?? []).map((f) => f["@_type"])])).toEqual([
      ["passes", "2", []],
      ["wrong text and a number given as text", "8", ["expect.bot", "expect.vars"]],
      ["buttons expected where WhatsApp Cloud shows a list", "17", ["expect.buttons"]],
      ["a tap on a label the channel does not show", "24", ["tap"]],
      ["messages in order", "30", ["expect.bot", "expect.survey", "expect.ended"]],
      ["a label too long for WhatsApp Cloud", "37", ["scenario"]],
    ]);
    const wrong = failing.testcase[1]?.failure?.[0] as Failure;
    expect(wrong["@_message"]).toBe('step 3 (expect.bot): no message the bot sent since the previous step is "Thank you!"');
    expect(wrong["#text"]).toBe(`${FIX}/failing.test.yaml:14:9: step 3 (expect.bot): no message the bot sent since the previous step is "Thank you!"\n- "Thank you!"\n+ "Thanks!"`);
    const list = failing.testcase[2]?.failure?.[0] as Failure;
    expect(list["#text"]).toContain('note: whatsapp-cloud shows these options as a list behind the button "Choose an answer"');
    for (const c of failing.testcase) expect(c["@_classname"]).toBe(`${FIX}/failing.test.yaml`);
  });

  it("writes the XML to --out FILE and the text report to stdout; exit 0 when all passed", async () => {
    const out = path.join(tmp, "report.xml");
    const r = await runCli(["test", `${FIX}/channels.test.yaml`, "--reporter", "junit", "--out", out]);
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split("\n").at(-1)).toBe("cases: 8 passed, 0 failed");
    const doc = parse(readFileSync(out, "utf8"));
    expect(doc.testsuites["@_tests"]).toBe("8");
    expect(doc.testsuites.testsuite[0]?.testcase.map((c) => c["@_name"])).toContain("a text over Telegram's 4096 characters is cut there, not elsewhere");
  });

  it("exits 2 when --out cannot be written", async () => {
    const r = await runCli(["test", `${FIX}/channels.test.yaml`, "--reporter", "junit", "--out", path.join(tmp, "no/such/dir/report.xml")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/report\.xml: cannot write the junit report \(ENOENT\)\n$/);
  });

  it("escapes what XML cannot hold as it is: markup, quotes, line breaks in attributes, control characters", () => {
    const xml = formatJunitReport(
      [
        {
          file: 'a&b<"c">.test.yaml',
          cases: [{ name: "x\ny\u0007 & <z>", line: 1, col: 3, ms: 1.5, failures: [{ line: 2, col: 5, where: "step 1 (expect.bot)", message: 'no "<b>" & \u0001', diff: ["- <a>", "+ ]]>"], details: [] }] }],
        },
      ],
      new Date(Date.UTC(2026, 0, 1)),
    );
    const doc = parse(xml);
    const suite = doc.testsuites.testsuite[0] as Suite;
    expect(suite["@_name"]).toBe('a&b<"c">.test.yaml');
    const c = suite.testcase[0] as TestCase;
    expect(c["@_name"]).toBe("x\ny\uFFFD & <z>");
    expect(c.failure?.[0]?.["#text"]).toBe('a&b<"c">.test.yaml:2:5: step 1 (expect.bot): no "<b>" & \uFFFD\n- <a>\n+ ]]>');
  });
});
