/**
 * Writing Berth's plan files (docs/builtin-runtime.md, "Plan format"): one record per line,
 * TAB-separated fields, backslash escapes for backslash, TAB and newline. The C executor's
 * plan.c reads what this writes.
 */
import { PlanError } from './plan-error';

export const PLAN_HEADER = 'berth-plan\t1\n';

export type Field = string | number | bigint;

function escape(field: string): string {
  return field.replace(/[\\\t\n]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : '\\n'));
}

/** Collects records in order and renders them with the header. */
export class PlanWriter {
  private readonly lines: string[] = [];

  add(key: string, ...fields: Field[]): this {
    for (const f of fields) {
      if (typeof f === 'number' && !Number.isInteger(f)) throw new PlanError(`${key}: ${f} is not an integer`);
    }
    this.lines.push([key, ...fields.map((f) => escape(String(f)))].join('\t'));
    return this;
  }

  text(): string {
    return PLAN_HEADER + this.lines.map((l) => `${l}\n`).join('');
  }
}
