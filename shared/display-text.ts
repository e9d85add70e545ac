/**
 * Other people's text made safe to display (the renderer, the CLI, the admin console): bidi
 * controls are shown, not obeyed. Runtime-neutral and pure.
 *
 * U+202A–U+202E (embeddings, overrides, their PDF) and U+2066–U+2069 (isolates) reorder what follows
 * them: `https://files.example/` + RLO (U+202E) + `gnp.exe` reads `…/exe.png`. Each is replaced by a
 * visible marker naming its code point, `[U+202E]`, the way GitHub and VS Code show hidden bidi
 * characters: the reader sees that something was there, and the letters stay in the order typed.
 * Stripping them would hide that someone tried; isolating each string alone (Signal balances them
 * and wraps each string in an isolate) keeps the reordering inside the message, but the message
 * itself still lies. Arabic and Hebrew need none of these characters: the bidi algorithm orders them
 * from their letters, and the nesting of opposite directions is what the clients' isolation
 * (`dir="auto"`, `<bdi>`) provides.
 *
 * Left as they are in running text:
 * - U+200E/U+200F (LRM/RLM) and U+061C (ALM): zero-width marks with a direction that RTL typists use
 *   to place punctuation. They cannot reverse letters, only attach neutrals beside them to a side,
 *   and the message's isolation keeps that within the message.
 * - Zero-width U+200B–U+200D, U+2060, U+FEFF: ZWJ builds emoji and Indic and Arabic forms, ZWNJ is
 *   Persian spelling; invisible in running text they change nothing a reader sees.
 * In a link, though, any invisible character makes two addresses look alike: `isDeceptiveLink` says
 * so, and the clients show such a link as text (with its markers), not as something to click.
 */

/** Embedding, override and isolate controls: the characters that reorder the text after them. */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g;

/** Every character that is invisible or steers direction: none belongs in an address shown to a reader. */
const HIDDEN_IN_LINK = /[\p{Default_Ignorable_Code_Point}\p{Bidi_Control}]/u;

/** The visible stand-in for one bidi control: `[U+202E]`. ASCII, so that any font or terminal shows it. */
export function bidiMarker(char: string): string {
  return `[U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`;
}

/** `text` with each bidi embedding, override and isolate control replaced by its marker. */
export function neutraliseBidi(text: string): string {
  return text.replace(BIDI_CONTROLS, bidiMarker);
}

/** True when an address holds a character a reader cannot see (zero-width, bidi control, soft hyphen…). */
export function isDeceptiveLink(url: string): boolean {
  return HIDDEN_IN_LINK.test(url);
}
