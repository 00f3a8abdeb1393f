/** Container names: dockerd's name rule and the names Berth generates when none is given. */
import { randomInt } from 'node:crypto';
import { InvalidParameterError } from '../../errors';

/** Docker's name rule: at least two characters, first alphanumeric (`daemon/names`). */
const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Returns the canonical stored form (`/name`) or throws dockerd's 400. */
export function normalizeName(name: string): string {
  if (!VALID_NAME.test(name)) {
    throw new InvalidParameterError(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.startsWith('/') ? name : `/${name}`;
}

// Berth's own word lists for generated names (adjective_noun), harbour-themed.
const ADJECTIVES = [
  'amber', 'brave', 'bright', 'calm', 'clever', 'cosy', 'crisp', 'daring', 'eager', 'fair',
  'fancy', 'fearless', 'gentle', 'glad', 'golden', 'happy', 'hardy', 'jolly', 'keen', 'kind',
  'lively', 'lucid', 'merry', 'mighty', 'nimble', 'noble', 'patient', 'plucky', 'proud', 'quick',
  'quiet', 'rapid', 'restless', 'salty', 'serene', 'sharp', 'silent', 'snug', 'steady', 'stoic',
  'sturdy', 'sunny', 'swift', 'tidy', 'trusty', 'vivid', 'wise', 'witty', 'zealous', 'zesty',
];
const NOUNS = [
  'anchor', 'barge', 'beacon', 'bollard', 'breakwater', 'buoy', 'capstan', 'cargo', 'clipper', 'compass',
  'crane', 'cutter', 'davit', 'dinghy', 'dock', 'ferry', 'frigate', 'galley', 'gangway', 'harbour',
  'hawser', 'helm', 'hull', 'jetty', 'keel', 'ketch', 'lantern', 'lighthouse', 'mast', 'mooring',
  'pier', 'pilot', 'quay', 'rudder', 'sail', 'schooner', 'sextant', 'skiff', 'slipway', 'sloop',
  'spinnaker', 'stern', 'tender', 'tide', 'tiller', 'trawler', 'tug', 'wharf', 'winch', 'yawl',
];

export function generateName(): string {
  return `/${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NOUNS[randomInt(NOUNS.length)]}`;
}
