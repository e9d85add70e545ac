/** Bidi controls in other people's text are shown as markers, never obeyed; links hiding characters are not links. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bidiMarker, isDeceptiveLink, neutraliseBidi } from '../../shared/display-text.js';

const RLO = '\u202e';
/** U+202A–U+202E and U+2066–U+2069. */
const BIDI_CONTROLS = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];

describe('neutraliseBidi', () => {
  it('turns the RLO of a disguised file name into a visible marker, letters in the order typed', () => {
    expect(neutraliseBidi(`see https://files.example/${RLO}gnp.exe now`)).toBe('see https://files.example/[U+202E]gnp.exe now');
  });

  it('replaces every embedding, override and isolate control by its own marker', () => {
    const out = neutraliseBidi(BIDI_CONTROLS.join('x'));
    expect(out).toBe('[U+202A]x[U+202B]x[U+202C]x[U+202D]x[U+202E]x[U+2066]x[U+2067]x[U+2068]x[U+2069]');
    expect(bidiMarker('\u2069')).toBe('[U+2069]');
  });

  it('leaves Arabic, Hebrew, direction marks, ZWJ emoji and ZWNJ Persian as they are', () => {
    for (const text of [
      'مرحبا بالعالم، كيف حالك؟',
      'שלום עולם, מה נשמע?',
      'version 2.0\u200f: עכשיו',
      'a\u200eb\u061cc',
      'family 👨\u200d👩\u200d👧',
      'می\u200cخواهم',
    ]) {
      expect(neutraliseBidi(text)).toBe(text);
    }
  });

  it('never lets a bidi control through, whatever the text', () => {
    const anyText = fc.string({ unit: fc.constantFrom(...BIDI_CONTROLS, 'a', 'ש', ' ', '.', '\u200f') });
    fc.assert(
      fc.property(anyText, (text) => {
        expect(neutraliseBidi(text)).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
      }),
    );
  });
});

describe('isDeceptiveLink', () => {
  it('flags addresses holding a bidi control, a direction mark or an invisible character', () => {
    for (const ch of [...BIDI_CONTROLS, '\u200e', '\u200f', '\u061c', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad']) {
      expect(isDeceptiveLink(`https://files.example/${ch}gnp.exe`), `U+${ch.codePointAt(0)!.toString(16)}`).toBe(true);
    }
  });

  it('passes ordinary addresses, including ones with non-Latin letters', () => {
    for (const url of ['https://files.example/report.pdf?x=1#top', 'https://exemple.fr/été', 'https://example.org/שלום', 'http://10.0.0.5:8080/a_b-c']) {
      expect(isDeceptiveLink(url)).toBe(false);
    }
  });
});
