/** The user's display preferences, kept in this browser/profile (validated when read back). */
import { useSyncExternalStore } from 'react';
import { z } from 'zod';

export const Prefs = z.object({
  lang: z.enum(['fr', 'en']).catch('fr'),
  theme: z.enum(['system', 'light', 'dark']).catch('system'),
  notifications: z.boolean().catch(true),
});
export type Prefs = z.infer<typeof Prefs>;
export type Theme = Prefs['theme'];

export const PREFS_KEY = 'chandler.prefs';
const DEFAULT_PREFS: Prefs = { lang: 'fr', theme: 'system', notifications: true };

function read(): Prefs {
  try {
    const raw = localStorage.getItem(PREFS_KEY);
    if (!raw) return DEFAULT_PREFS;
    const parsed = Prefs.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : DEFAULT_PREFS;
  } catch {
    return DEFAULT_PREFS;
  }
}

let current: Prefs = read();
const listeners = new Set<() => void>();

export function getPrefs(): Prefs {
  return current;
}

export function setPrefs(patch: Partial<Prefs>): void {
  current = { ...current, ...patch };
  try {
    localStorage.setItem(PREFS_KEY, JSON.stringify(current));
  } catch {
    /* not persisted; still applied for this page */
  }
  for (const fn of listeners) fn();
}

function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function usePrefs(): Prefs {
  return useSyncExternalStore(subscribe, getPrefs);
}

/** Applies language and theme to the document (the CSS follows the system when "system"). */
export function applyPrefs(p: Prefs): void {
  const root = document.documentElement;
  root.lang = p.lang;
  if (p.theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = p.theme;
}
