/**
 * Dockerfile instructions as dockerd checks them before it runs any (moby/buildkit
 * `instructions/parse.go`), for both of its paths: a whole Dockerfile for `docker build`, and the
 * `--change` lines of `docker commit` and `docker import` (`[moby] builder/dockerfile`
 * BuildFromConfig). Each path words its errors as dockerd does.
 */
import { InvalidParameterError } from '../../errors';
import { goQuote } from './go-quote';
import { ONBUILD_PREFIX, splitInstructions, SyntaxFault, trim, type Node } from './parser';

export interface Instruction {
  /** Lower-case keyword: 'from', 'run', 'cmd', 'copy', ... */
  cmd: string;
  /** Flags before the arguments (`--name=value`; '' for a bare `--name`). Raw, not expanded. */
  flags: Record<string, string>;
  /** Arguments as moby's line parser for the instruction produces them; quotes and variables kept. */
  args: string[];
  /** The exec (JSON array) form was used; args are then the decoded strings. */
  json: boolean;
  /** The instruction as `Step N/M : ...` prints it: continuations joined, trimmed. */
  original: string;
  /** 1-based line where the instruction starts. */
  line: number;
}

export interface ParsedDockerfile {
  /** '\\' or '`' (`# escape=` directive). */
  escapeToken: string;
  instructions: Instruction[];
}

const STAGE_NAME = /^[a-z][a-z0-9_.-]*$/;
/** Every keyword the classic builder knows. */
const INSTRUCTIONS = ['add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label', 'maintainer', 'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir'];

type FlagKind = 'bool' | 'string' | 'strings';
/** The flags each instruction accepts (BFlags). */
const FLAGS: Record<string, Record<string, FlagKind>> = {
  add: { chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', unpack: 'bool', exclude: 'strings' },
  copy: { chown: 'string', chmod: 'string', from: 'string', link: 'bool', parents: 'bool', exclude: 'strings' },
  from: { platform: 'string' },
  run: { mount: 'strings', network: 'string', security: 'string', device: 'strings' },
  healthcheck: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
};

export function parseDockerfile(text: string, fileName = 'Dockerfile'): ParsedDockerfile {
  if (text === '') throw new InvalidParameterError(`the Dockerfile (${fileName}) cannot be empty`);
  let nodes: Node[];
  let escapeToken: string;
  try {
    ({ nodes, escapeToken } = splitInstructions(text));
    if (nodes.length === 0) throw new SyntaxFault('file with no instructions');
  } catch (err) {
    if (!(err instanceof SyntaxFault)) throw err;
    throw new InvalidParameterError(`failed to parse ${fileName}: ${err.message}`);
  }
  // Like instructions.Parse, every instruction is checked before the first step runs. Which come
  // before the first FROM is left to the builder, which also parses single ONBUILD triggers.
  const instructions = nodes.map((node) => {
    try {
      return toInstruction(node);
    } catch (err) {
      if (!(err instanceof SyntaxFault)) throw err;
      throw new InvalidParameterError(`dockerfile parse error on line ${node.start}: ${err.message}`);
    }
  });
  return { escapeToken, instructions };
}

/**
 * The `--change` instructions of docker commit and docker import, joined into one Dockerfile as
 * dockerd joins them: every keyword must be in `allowed` ("<keyword> is not a valid change
 * command", checked for all before any other check), then each instruction gets the build's
 * checks. The messages are bare (no file, no line), as dockerd's are on this path. Text without
 * instructions (blank or comment lines only) changes nothing.
 */
export function parseChanges(text: string, allowed: ReadonlySet<string>): ParsedDockerfile {
  try {
    const { nodes, escapeToken } = splitInstructions(text);
    for (const node of nodes) {
      const cmd = node.keyword.toLowerCase();
      if (!allowed.has(cmd)) throw new InvalidParameterError(`${cmd} is not a valid change command`);
    }
    return { escapeToken, instructions: nodes.map(toInstruction) };
  } catch (err) {
    if (!(err instanceof SyntaxFault)) throw err;
    throw new InvalidParameterError(err.message);
  }
}

/** The checks of buildkit's instructions.Parse, and the shape the builder consumes. */
function toInstruction(node: Node): Instruction {
  const cmd = node.keyword.toLowerCase();
  const upper = cmd.toUpperCase();
  const { args } = node;
  if (!INSTRUCTIONS.includes(cmd)) throw new SyntaxFault(`unknown instruction: ${node.keyword}${suggestion(node.keyword)}`);
  // ARG, STOPSIGNAL and HEALTHCHECK NONE never check their flags; the others call flags().
  const ins: Instruction = { cmd, flags: parseFlags(node.flagWords), args, json: node.json, original: trim(node.line), line: node.start };
  const flags = () => (ins.flags = parseFlags(node.flagWords, FLAGS[cmd] ?? {}));
  const exactlyOne = () => {
    if (args.length !== 1) throw new SyntaxFault(`${upper} requires exactly one argument`);
  };
  const atLeastOne = () => {
    if (args.length === 0) throw new SyntaxFault(`${upper} requires at least one argument`);
  };
  switch (cmd) {
    case 'env':
    case 'label':
      flags();
      atLeastOne();
      if (args.some((a, i) => i % 2 === 0 && a === '')) throw new SyntaxFault(`${upper} names can not be blank`);
      break;
    case 'add':
    case 'copy':
      if (args.length < 2) throw new SyntaxFault(`${upper} requires at least two arguments, but only one was provided. Destination could not be determined`);
      flags();
      break;
    case 'from':
      if (args.length === 3 && args[1].toLowerCase() === 'as') {
        if (!STAGE_NAME.test(args[2].toLowerCase())) {
          throw new SyntaxFault(`invalid name for build stage: ${goQuote(args[2])}, name can't start with a number or contain symbols`);
        }
      } else if (args.length !== 1) throw new SyntaxFault('FROM requires either one or three arguments');
      flags();
      break;
    case 'onbuild': {
      if (!node.child) throw new SyntaxFault('ONBUILD requires at least one argument');
      flags();
      const trigger = node.child.keyword.toUpperCase();
      if (trigger === 'ONBUILD') throw new SyntaxFault('Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
      if (trigger === 'MAINTAINER' || trigger === 'FROM') throw new SyntaxFault(`${trigger} isn't allowed as an ONBUILD trigger`);
      ins.args = [node.line.replace(ONBUILD_PREFIX, '')];
      break;
    }
    case 'healthcheck': {
      atLeastOne();
      const type = args[0].toUpperCase();
      if (type === 'NONE') {
        if (args.length > 1) throw new SyntaxFault('HEALTHCHECK NONE takes no arguments');
      } else {
        flags();
        if (type !== 'CMD') throw new SyntaxFault(`Unknown type ${goQuote(type)} in HEALTHCHECK (try CMD)`);
        if (args.length === 1) throw new SyntaxFault('Missing command after HEALTHCHECK CMD');
      }
      ins.args = [type, ...args.slice(1)];
      break;
    }
    case 'maintainer':
    case 'workdir':
    case 'user':
      exactlyOne();
      flags();
      break;
    case 'stopsignal':
      exactlyOne();
      break;
    case 'expose':
      atLeastOne();
      flags();
      break;
    case 'volume':
      atLeastOne();
      flags();
      if (args.some((v) => trim(v) === '')) throw new SyntaxFault('VOLUME specified can not be an empty string');
      break;
    case 'arg':
      atLeastOne();
      if (args.some((a) => a.startsWith('='))) throw new SyntaxFault('ARG names can not be blank');
      break;
    case 'shell':
      flags();
      atLeastOne();
      if (!node.json) throw new SyntaxFault('SHELL requires the arguments to be in JSON form');
      break;
    default: // run, cmd, entrypoint
      flags();
  }
  return ins;
}

/** BFlags.Parse against `spec`; without one the flags are only recorded. */
function parseFlags(words: string[], spec?: Record<string, FlagKind>): Record<string, string> {
  const out = new Map<string, string>();
  for (const word of words) {
    const body = word.slice(2);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const value = eq < 0 ? '' : body.slice(eq + 1);
    if (spec) {
      const kind = Object.hasOwn(spec, name) ? spec[name] : undefined;
      if (!kind) throw new SyntaxFault(`Unknown flag: ${name}`);
      if (out.has(name) && kind !== 'strings') throw new SyntaxFault(`Duplicate flag specified: ${name}`);
      if (kind === 'bool') {
        if (eq >= 0 && value === '') throw new SyntaxFault(`Missing a value on flag: ${name}`);
        if (value !== '' && !['true', 'false'].includes(value.toLowerCase())) {
          throw new SyntaxFault(`Expecting boolean value for flag ${name}, not: ${value}`);
        }
      } else if (eq < 0) throw new SyntaxFault(`Missing a value on flag: ${name}`);
    }
    out.set(name, value);
  }
  return Object.fromEntries(out);
}

/** buildkit's " (did you mean X?)": the closest keyword under edit distance 3, in the input's case. */
function suggestion(word: string): string {
  const lower = word.toLowerCase();
  let best = '';
  let bestDistance = 3;
  for (const name of INSTRUCTIONS) {
    const d = editDistance(lower, name);
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  if (!best) return '';
  return ` (did you mean ${word === lower ? best : word === word.toUpperCase() ? best.toUpperCase() : best}?)`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
