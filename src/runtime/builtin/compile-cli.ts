/**
 * The plan compiler as a program, for bundles the daemon did not prepare: the executor runs
 * `node compile-cli.js bundle <dir>` or `node compile-cli.js process <process.json>` when a plan
 * is missing or older than its JSON (docs/builtin-runtime.md). Errors go to stderr, exit 1.
 */
import { planSeccompCompiler } from './seccomp-support';
import { currentPlanHost, writeBundlePlan, writeProcessPlan } from './plan-files';

async function main(argv: string[]): Promise<number> {
  const [mode, arg] = argv;
  if (!arg || argv.length !== 2 || (mode !== 'bundle' && mode !== 'process')) {
    process.stderr.write('usage: compile-cli.js bundle <bundle dir> | process <process.json>\n');
    return 1;
  }
  try {
    if (mode === 'bundle') await writeBundlePlan(arg, currentPlanHost(planSeccompCompiler));
    else await writeProcessPlan(arg);
    return 0;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
