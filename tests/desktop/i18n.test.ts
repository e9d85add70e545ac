/** Every error a person can meet is worded in French and English, and both languages say the same things. */
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, LOCAL_ERROR_CODES, PASSWORD_WEAKNESSES } from '../../shared/protocol/index.js';
import { DICTIONARIES, pluralIndex, translate } from '../../desktop/src/renderer/i18n/index.js';
import { ERROR_WORDS, errorText, PASSWORD_WEAKNESS_WORDS, untilPhrase } from '../../desktop/src/renderer/i18n/errors.js';
import { fr } from '../../desktop/src/renderer/i18n/fr.js';


const placeholders = (s: string) => [...new Set([...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))].sort();

describe('error codes in words', () => {
  it('has French and English for every code of the wire, the client core and the DM engine', () => {
    for (const lang of ['fr', 'en'] as const) {
      const missing = [...ERROR_CODES, ...LOCAL_ERROR_CODES].filter((c) => !ERROR_WORDS[lang][c]);
      expect(missing, `${lang} lacks words for`).toEqual([]);
    }
  });

  it('fills in until when for a suspension and for throttling', () => {
    const at = new Date();
    at.setHours(14, 32, 0, 0);
    expect(errorText('fr', { code: 'KICKED', message: '', until: at.getTime() })).toBe("Ce compte est suspendu jusqu'à 14:32.");
    expect(errorText('en', { code: 'TOO_MANY_ATTEMPTS', message: '', until: at.getTime() })).toBe('Too many attempts. Try again at 14:32.');
    expect(errorText('fr', { code: 'TOO_MANY_ATTEMPTS', message: '' })).toBe('Trop de tentatives. Réessayez plus tard.');
    const later = new Date(2031, 2, 3, 9, 5).getTime();
    expect(untilPhrase('fr', later)).toBe("jusqu'au 3 mars 2031 à 09:05");
    expect(untilPhrase('en', later)).toBe('until 3 March 2031 at 09:05');
  });

  it("says why a password was refused, in both languages, for each of the authority's reasons", () => {
    for (const lang of ['fr', 'en'] as const) {
      const missing = PASSWORD_WEAKNESSES.filter((r) => !PASSWORD_WEAKNESS_WORDS[lang][r]);
      expect(missing, `${lang} lacks words for`).toEqual([]);
    }
    expect(errorText('fr', { code: 'WEAK_PASSWORD', message: '', reason: 'common' })).toBe(
      'Mot de passe trop faible : ce mot de passe est trop courant. Ajoutez des mots peu courants.',
    );
    expect(errorText('en', { code: 'WEAK_PASSWORD', message: '', reason: 'username' })).toBe(
      'Password too weak: it must not contain your username.',
    );
    expect(errorText('en', { code: 'WEAK_PASSWORD', message: '' })).toMatch(/^Password too weak: at least 12 characters/);
  });

  it('falls back to the server text for a code it does not know', () => {
    expect(errorText('fr', { code: 'SOMETHING_NEW' as never, message: 'something new happened' })).toBe('something new happened');
  });
});

describe('the two dictionaries', () => {
  it('have the same keys and the same placeholders', () => {
    expect(Object.keys(DICTIONARIES.en).sort()).toEqual(Object.keys(fr).sort());
    for (const key of Object.keys(fr) as (keyof typeof fr)[]) {
      expect(placeholders(DICTIONARIES.en[key]), key).toEqual(placeholders(DICTIONARIES.fr[key]));
    }
  });

  it('choose singular and plural as each language does', () => {
    expect(pluralIndex('fr', 0)).toBe(0);
    expect(pluralIndex('fr', 1)).toBe(0);
    expect(pluralIndex('en', 0)).toBe(1);
    expect(translate('fr', 'room.members', { n: 1 })).toBe('1 membre');
    expect(translate('fr', 'room.members', { n: 4 })).toBe('4 membres');
    expect(translate('en', 'room.members', { n: 1 })).toBe('1 member');
    expect(translate('en', 'room.members', { n: 0 })).toBe('0 members');
  });

  it('say "Demander l\'accès" in French', () => {
    expect(translate('fr', 'sidebar.requestAccess')).toBe("Demander l'accès");
  });
});
