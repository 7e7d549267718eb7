// scripts/bench.ts's output: markdown tables (one per section, as each has its own baseline), the
// budget check, and an SVG chart with one panel per section, each on its own scale.
export type Section = "hook" | "runtime" | "passthrough";

export interface Row {
  section: Section;
  gpus?: number;
  name: string;
  median: number;
  p95: number;
  /** Median over the section's baseline (plain runc, or runc's own command). */
  added?: number;
  ratio?: number;
  hookMedian?: number;
  hookP95?: number;
  rssMiB?: number;
}

const TITLES: Record<Section, (maxGpus: number) => string> = {
  hook: () => "Container start with a prestart hook: `runc run` in the fake host (create, start, wait, delete)",
  runtime: (n) => `Container through a runtime, ${n} GPUs: RUNTIME create, runc start, wait for the exit, runc delete`,
  passthrough: () => "Commands the runtime passes through to runc: a cold process each",
};

const f = (x: number | undefined, d = 1) => (x === undefined ? "" : x.toFixed(d));
const signed = (x: number | undefined) => (x === undefined ? "" : `${x >= 0 ? "+" : ""}${x.toFixed(1)}`);

function table(section: Section, rows: Row[], maxGpus: number): string {
  const hook = section === "hook";
  const base = section === "passthrough" ? "runc's" : "plain runc";
  const head = [...(section === "passthrough" ? [] : ["GPUs"]), "case", "median (ms)", "p95 (ms)", `added over ${base} (ms)`, `vs ${base}`];
  if (hook) head.push("hook wall median (ms)", "hook wall p95 (ms)", "hook peak RSS (MiB)");
  let md = `### ${TITLES[section](maxGpus)}\n\n| ${head.join(" | ")} |\n|${head.map(() => "---").join("|")}|\n`;
  for (const r of rows) {
    const cells = [...(section === "passthrough" ? [] : [String(r.gpus)]), r.name, f(r.median), f(r.p95), signed(r.added), r.ratio === undefined ? "" : `${r.ratio.toFixed(2)}x`];
    if (hook) cells.push(f(r.hookMedian), f(r.hookP95), f(r.rssMiB));
    md += `| ${cells.join(" | ")} |\n`;
  }
  return md;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function colour(name: string): string {
  if (name.startsWith("plain runc") || name.startsWith("runc ")) return "#8c8c8c";
  if (name.startsWith("floor")) return "#b07aa1";
  if (name.startsWith("/bin/true")) return "#bab0ac";
  if (name.startsWith("nvct") || name.startsWith("nvidia-container-runtime")) return "#76b900";
  return "#e15759";
}

/** Horizontal bars: the median, a whisker to the p95, the median and what it adds to the baseline. */
function chart(sections: [Section, Row[]][], maxGpus: number): string {
  const W = 880, labelW = 330, barW = W - labelW - 120, rowH = 18, titleH = 40;
  let y = 28;
  let body = "";
  for (const [section, rows] of sections) {
    const max = Math.max(...rows.map((r) => r.p95)) * 1.05;
    const x = (v: number) => labelW + (barW * v) / max;
    const title = TITLES[section](maxGpus).replace(/`/g, "");
    body += `<text x="8" y="${y + 14}" font-weight="bold">${esc(title)}</text>\n`;
    y += titleH - 14;
    // A gap between groups: GPU counts, or the command passed through.
    const group = (r: Row) => r.gpus ?? r.name.split(" ").pop();
    const gap = (i: number) => (i > 0 && group(rows[i]) !== group(rows[i - 1]) ? 8 : 0);
    const h = rows.length * rowH + rows.reduce((sum, _, i) => sum + gap(i), 0);
    const step = max > 100 ? 50 : max > 40 ? 20 : max > 20 ? 10 : 5;
    for (let v = 0; v <= max; v += step)
      body += `<line x1="${x(v)}" x2="${x(v)}" y1="${y}" y2="${y + h}" stroke="#e4e4e4"/><text x="${x(v)}" y="${y + h + 12}" text-anchor="middle" font-size="10" fill="#666">${v}</text>\n`;
    rows.forEach((r, i) => {
      y += gap(i);
      const label = r.gpus !== undefined && section === "hook" ? `${r.gpus} GPU${r.gpus > 1 ? "s" : ""} · ${r.name}` : r.name;
      const mid = y + rowH / 2;
      body += `<text x="${labelW - 8}" y="${mid + 4}" text-anchor="end">${esc(label)}</text>`;
      body += `<rect x="${labelW}" y="${y + 3}" width="${x(r.median) - labelW}" height="${rowH - 6}" fill="${colour(r.name)}"/>`;
      body += `<line x1="${x(r.median)}" x2="${x(r.p95)}" y1="${mid}" y2="${mid}" stroke="#333"/><line x1="${x(r.p95)}" x2="${x(r.p95)}" y1="${mid - 4}" y2="${mid + 4}" stroke="#333"/>`;
      const added = r.added === undefined || r.ratio === 1 ? "" : ` (${signed(r.added)})`;
      body += `<text x="${x(r.p95) + 6}" y="${mid + 4}" font-size="11">${r.median.toFixed(1)}${added}</text>\n`;
      y += rowH;
    });
    y += 30;
  }
  const head = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y + 10}" font-family="sans-serif" font-size="12">\n`;
  const sub = `<text x="8" y="16" font-size="14">nvct benchmark: median (bar) and p95 (whisker), milliseconds; in brackets, added to the baseline</text>\n`;
  return `${head}<rect width="100%" height="100%" fill="white"/>\n${sub}${body}</svg>\n`;
}

export function render(rows: Row[], o: { about: string; budget: string[]; notes: string[]; maxGpus: number }): { md: string; svg: string } {
  const present = (["hook", "runtime", "passthrough"] as Section[]).map((s) => [s, rows.filter((r) => r.section === s)] as [Section, Row[]]).filter(([, rs]) => rs.length > 0);
  let md = `## nvct benchmark\n\n${o.about}\n\n`;
  for (const [s, rs] of present) md += `${table(s, rs, o.maxGpus)}\n`;
  if (o.notes.length) md += o.notes.map((n) => `- note: ${n}`).join("\n") + "\n\n";
  if (o.budget.length) md += "### Budget check (DESIGN.md, Budget; medians of this run)\n\n```\n" + o.budget.join("\n") + "\n```\n";
  return { md, svg: chart(present, o.maxGpus) };
}
