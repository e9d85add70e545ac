/** Translation: French by default, English in the settings; `{name}` placeholders. */
import { createContext, useContext, useMemo, type ReactNode } from 'react';
import { neutraliseBidi } from '../../../../shared/display-text.js';
import { en } from './en.js';
import { errorText, type UserError } from './errors.js';
import { fr, type MessageKey } from './fr.js';
import type { Lang } from './lang.js';

export type { Lang };
export type { MessageKey };

export const DICTIONARIES: Record<Lang, Record<MessageKey, string>> = { fr, en };

export type Vars = Record<string, string | number>;

/** French treats 0 and 1 as singular; English only 1. */
export function pluralIndex(lang: Lang, n: number): 0 | 1 {
  return (lang === 'fr' ? Math.abs(n) < 2 : n === 1) ? 0 : 1;
}

/**
 * `{name}` placeholders; "singular|plural" templates choose by `vars.n`. A value put in a sentence
 * (a room name, a message) is shown, never obeyed: its bidi controls become markers.
 */
export function translate(lang: Lang, key: MessageKey, vars?: Vars): string {
  let template = DICTIONARIES[lang][key];
  if (template.includes('|')) {
    const forms = template.split('|');
    template = forms[typeof vars?.n === 'number' ? pluralIndex(lang, vars.n) : 1] ?? template;
  }
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? neutraliseBidi(String(vars[name])) : whole));
}

export interface I18n {
  lang: Lang;
  t(key: MessageKey, vars?: Vars): string;
  err(error: UserError): string;
  time(ms: number): string;
  locale: string;
}

export function makeI18n(lang: Lang): I18n {
  const locale = lang === 'fr' ? 'fr-FR' : 'en-GB';
  const timeFormat = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' });
  return {
    lang,
    locale,
    t: (key, vars) => translate(lang, key, vars),
    // A server's words (a ban reason) may reach the user through error.message.
    err: (error) => neutraliseBidi(errorText(lang, error)),
    time: (ms) => timeFormat.format(ms),
  };
}

const I18nContext = createContext<I18n>(makeI18n('fr'));

export function I18nProvider({ lang, children }: { lang: Lang; children: ReactNode }) {
  const value = useMemo(() => makeI18n(lang), [lang]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  return useContext(I18nContext);
}
