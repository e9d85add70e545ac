/**
 * The password policy, for every client and command-line tool: the authority never sees a
 * password (OPAQUE), so the client checks a new one before registering it. The seed's rules
 * (long, one character that is not a letter or digit, no control character), cheap pattern
 * rules, then the zxcvbn estimator (common passwords and words in English and French, keyboard
 * rows, dates, l33t), loaded on first use (its dictionaries are a separate chunk of the web
 * bundle, about a second to load and rank). The authority announces the settings (authPolicy).
 */
import type { ZxcvbnFactory, ZxcvbnResult } from '@zxcvbn-ts/core';
import { CONTROL_CHARS, type PasswordWeakness } from './protocol/index.js';

/**
 * The policy's settings: the shortest length, and the estimator's score (0–4) a password needs
 * (0 turns the estimator off; the other rules stay).
 */
export interface PasswordRules {
  passwordMinLength: number;
  passwordMinScore: number;
}

export interface PasswordProblem {
  reason: PasswordWeakness;
  /** In English, for logs, the CLI and the console; clients translate `reason`. */
  message: string;
}

/**
 * Only the first characters are estimated: the estimator's cost grows quickly with length (its l33t
 * matcher above all), and a password this long that starts well is not common.
 */
export const ESTIMATED_CHARS = 32;
/** The l33t substitutions the estimator tries per password ("p@ssw0rd"); its default (100) costs seconds. */
const L33T_MAX_SUBSTITUTIONS = 2;
/** Fewer distinct characters than this is a pattern ("aaaaaaaaaaaa!", "abababababab!"). */
const MIN_DISTINCT_CHARS = 5;

/**
 * Why `password` is refused for `username`, or null when it is acceptable: the cheap rules, then
 * the estimator (10–25 ms; its first use loads it).
 */
export async function passwordPolicyError(password: string, rules: PasswordRules, username?: string): Promise<PasswordProblem | null> {
  const quick = quickPasswordProblem(password, rules, username);
  if (quick || rules.passwordMinScore <= 0) return quick;
  return estimatedPasswordProblem(await loadPasswordEstimator(), password, rules, username);
}

/** The rules that cost nothing (length, character classes, the username, trivial patterns). */
export function quickPasswordProblem(password: string, rules: PasswordRules, username?: string): PasswordProblem | null {
  const chars = [...password];
  if (chars.length < rules.passwordMinLength) return { reason: 'short', message: `at least ${rules.passwordMinLength} characters` };
  if (!/[^\p{L}\p{N}]/u.test(password)) {
    return { reason: 'symbol', message: 'at least one character that is not a letter or digit' };
  }
  if (CONTROL_CHARS.test(password)) return { reason: 'control', message: 'no control characters' };
  if (username && password.toLowerCase().includes(username.toLowerCase())) {
    return { reason: 'username', message: 'it must not contain the username' };
  }
  const pattern = trivialPattern(chars);
  if (pattern) return { reason: 'pattern', message: pattern };
  return null;
}

/** The estimator's verdict alone (null when rules.passwordMinScore is 0: the estimator is off). */
function estimatedPasswordProblem(
  estimator: ZxcvbnFactory,
  password: string,
  rules: Pick<PasswordRules, 'passwordMinScore'>,
  username?: string,
): PasswordProblem | null {
  if (rules.passwordMinScore <= 0) return null;
  const result = estimator.check([...password].slice(0, ESTIMATED_CHARS).join(''), username ? [username] : []);
  if (result.score >= rules.passwordMinScore) return null;
  const advice = [result.feedback.warning, ...result.feedback.suggestions].filter(Boolean).join(' ');
  const reason = estimatedWeakness(result.sequence);
  const what = reason === 'username' ? 'too close to the username' : reason === 'common' ? 'too common' : 'too easy to guess';
  return { reason, message: `${what}${advice ? ` (${advice})` : ''}` };
}

/** The estimator's matches that are patterns, not words: a weak password made of them is a 'pattern'. */
const PATTERN_MATCHES: ReadonlySet<string> = new Set(['spatial', 'repeat', 'sequence', 'date', 'regex']);

/** Why the estimator scored a password low, from what it matched in it. */
function estimatedWeakness(matches: ZxcvbnResult['sequence']): PasswordWeakness {
  const dictionaries = matches.map((m) => ('dictionaryName' in m ? m.dictionaryName : null));
  if (dictionaries.includes('userInputs')) return 'username';
  if (dictionaries.includes('passwords-common')) return 'common';
  return matches.some((m) => PATTERN_MATCHES.has(m.pattern)) ? 'pattern' : 'common';
}

/** A password made mostly of whitespace, of a few distinct characters, or mostly of runs ("aaa", "abc", "321"). */
function trivialPattern(chars: string[]): string | null {
  const spaces = chars.filter((c) => /\s/u.test(c)).length;
  if (spaces * 2 >= chars.length) return 'it is mostly whitespace';
  if (new Set(chars).size < MIN_DISTINCT_CHARS) return 'too few different characters';
  const points = chars.map((c) => c.codePointAt(0)!);
  const inRun = new Set<number>();
  for (let i = 0; i + 2 < points.length; i++) {
    const step = points[i + 1]! - points[i]!;
    if (Math.abs(step) <= 1 && points[i + 2]! - points[i + 1]! === step) [i, i + 1, i + 2].forEach((j) => inRun.add(j));
  }
  if (inRun.size * 2 > chars.length) return 'it is mostly a sequence or a repeated character';
  return null;
}

let estimator: Promise<ZxcvbnFactory> | undefined;

/** The estimator, built once: its dictionaries are loaded and ranked at the first call (about a second). */
export function loadPasswordEstimator(): Promise<ZxcvbnFactory> {
  estimator ??= (async () => {
    const [core, common, en, fr] = await Promise.all([
      import('@zxcvbn-ts/core'),
      import('@zxcvbn-ts/language-common'),
      import('@zxcvbn-ts/language-en'),
      import('@zxcvbn-ts/language-fr'),
    ]);
    return new core.ZxcvbnFactory({
      dictionary: { ...common.dictionary, ...en.dictionary, ...fr.dictionary },
      graphs: common.adjacencyGraphs,
      translations: en.translations,
      maxLength: ESTIMATED_CHARS,
      l33tMaxSubstitutions: L33T_MAX_SUBSTITUTIONS,
    });
  })();
  return estimator;
}
