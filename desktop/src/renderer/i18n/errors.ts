/**
 * Every error code of the wire (shared/protocol/errors.ts) and of the client core, in words,
 * in both languages. A code missing here falls back to the server's English text; the unit
 * test tests/desktop/i18n.test.ts fails when one is missing.
 */
import type { AnyErrorCode, Failure, PasswordWeakness } from '../../../../shared/protocol/index.js';
import type { Lang } from './lang.js';

/** What a person is shown of a failure: its code (in words), the server's text, until when, why. */
export type UserError = Pick<Failure, 'code' | 'message' | 'until' | 'reason'>;

/** WEAK_PASSWORD in words, by the rule the password broke (the authority's `reason`). */
export const PASSWORD_WEAKNESS_WORDS: Record<Lang, Record<PasswordWeakness, string>> = {
  fr: {
    short: 'Mot de passe trop faible : au moins 12 caractères.',
    symbol: "Mot de passe trop faible : il faut au moins un caractère qui n'est ni une lettre ni un chiffre.",
    control: 'Mot de passe refusé : il contient un caractère invisible ou de contrôle.',
    common: 'Mot de passe trop faible : ce mot de passe est trop courant. Ajoutez des mots peu courants.',
    pattern:
      'Mot de passe trop faible : le motif est trop simple (espaces, caractère répété, suite comme abcd ou 1234, rangée du clavier comme azerty).',
    username: "Mot de passe trop faible : il ne doit pas contenir votre nom d'utilisateur.",
  },
  en: {
    short: 'Password too weak: at least 12 characters.',
    symbol: 'Password too weak: it needs at least one character that is not a letter or digit.',
    control: 'Password refused: it contains an invisible or control character.',
    common: 'Password too weak: this password is too common. Add some uncommon words.',
    pattern:
      'Password too weak: the pattern is too simple (spaces, a repeated character, a sequence like abcd or 1234, a keyboard row like qwerty).',
    username: 'Password too weak: it must not contain your username.',
  },
};

export const ERROR_WORDS: Record<Lang, Partial<Record<AnyErrorCode, string>>> = {
  fr: {
    BAD_REQUEST: 'La requête est mal formée.',
    NOT_AUTHENTICATED: "Connectez-vous d'abord.",
    ALREADY_AUTHENTICATED: 'Cette connexion est déjà authentifiée.',
    UNKNOWN_USER: 'Aucun utilisateur ne porte ce nom.',
    WRONG_PASSWORD: 'Mot de passe incorrect.',
    WRONG_CREDENTIALS: 'Identifiant ou mot de passe incorrect.',
    INVALID_USERNAME: "Nom d'utilisateur invalide : 3 à 32 caractères, lettres, chiffres, point, tiret ou tiret bas.",
    USERNAME_TAKEN: "Ce nom d'utilisateur est déjà pris.",
    USERNAME_LOOKALIKE: "Ce nom ressemble trop à celui d'un compte existant (l, I et 1 ; O et 0 ; rn et m) : choisissez-en un autre.",
    WEAK_PASSWORD:
      "Mot de passe trop faible : au moins 12 caractères, dont un qui n'est ni une lettre ni un chiffre, et ni un mot de passe courant, ni un motif simple, ni votre nom d'utilisateur.",
    TOO_MANY_ATTEMPTS: 'Trop de tentatives. Réessayez {after}.',
    BANNED: 'Ce compte ou cette adresse a été banni par un administrateur.',
    KICKED: 'Ce compte est suspendu {until}.',
    PASSWORD_CHANGE_REQUIRED: 'Choisissez un nouveau mot de passe pour continuer.',
    INVALID_SESSION: 'Votre session a expiré. Reconnectez-vous.',
    UNKNOWN_ROOM: "Ce salon n'existe pas.",
    NOT_A_MEMBER: "Vous n'êtes pas membre de ce salon.",
    ALREADY_MEMBER: 'Vous êtes déjà membre de ce salon.',
    ROOM_CLOSED: 'Ce salon est sur invitation uniquement.',
    NO_SUCH_REQUEST: "Cette demande n'existe plus (déjà traitée ?).",
    TEXT_TOO_LONG: 'Le message est trop long (4 000 caractères au maximum).',
    INVALID_TEXT: 'Le message est vide ou contient des caractères interdits.',
    INVALID_NAME: 'Le nom est vide, trop long ou contient des caractères interdits.',
    NOT_ADMIN: 'Seuls les administrateurs peuvent faire cela.',
    ALREADY_FRIENDS: 'Vous êtes déjà amis.',
    NOT_FRIENDS: "Vous n'êtes pas amis.",
    SELF_FRIEND: 'Vous ne pouvez pas vous ajouter vous-même en ami.',
    NO_FRIEND_REQUEST: "Aucune demande d'ami correspondante.",
    ROOM_EXISTS: 'Un salon porte déjà ce nom.',
    RATE_LIMITED: "Doucement ! Trop de requêtes d'un coup, réessayez dans un instant.",
    BUSY: 'Le serveur est occupé : réessayez dans un instant.',
    DUPLICATE_ROOM: 'La requête nomme deux fois le même salon.',
    NO_KEYS: "Cet utilisateur n'a pas encore publié ses clés de chiffrement.",
    BACKUP_CONFLICT: 'Un autre de vos appareils a enregistré ses clés au même moment : réessayez.',
    UNKNOWN_DEVICE: "Aucun de vos appareils n'a cet identifiant.",
    TOO_MANY_DEVICES: "Vous avez trop d'appareils : révoquez-en un que vous n'utilisez plus.",
    INVALID_KEYS: 'Les clés de chiffrement sont invalides.',
    SIGNAL_TOO_LARGE: 'Le message de connexion directe est trop grand.',
    ENVELOPE_TOO_LARGE: 'Le message chiffré est trop grand.',
    STORE_FULL: 'Votre ami a trop de messages en attente.',
    PEER_OFFLINE: "Cet ami n'est pas connecté.",
    SHUTTING_DOWN: 'Le serveur redémarre. Reconnexion automatique…',
    CANNOT_TARGET_SELF: 'Vous ne pouvez pas faire cela sur votre propre compte.',
    INVALID_AUTH_MESSAGE: "Le serveur n'a pas compris le message de connexion. Réessayez ; si cela se reproduit, prévenez votre administrateur.",
    NO_AUTH_EXCHANGE: 'La connexion a pris trop de temps ou a été interrompue : recommencez.',
    INTERNAL: 'Erreur interne du serveur. Réessayez plus tard.',
    DISCONNECTED: 'Impossible de joindre le serveur.',
    TIMEOUT: "Le serveur n'a pas répondu à temps.",
    CERT_MISMATCH: 'Le certificat du serveur ne correspond pas à celui enregistré : connexion refusée.',
    BAD_REPLY: 'Le serveur a envoyé une réponse incompréhensible.',
    KEY_CHANGED: 'La clé de sécurité de cet ami a changé : vérifiez le numéro de sécurité avant d\'envoyer.',
    LOCKED: 'Les messages privés sont verrouillés : saisissez votre mot de passe.',
    CLOSED: 'Les messages privés sont fermés pour cette session.',
    WEAK_KEY_STRETCHING:
      "Le serveur demande une protection des mots de passe plus faible que celle qu'exige cette application : connexion refusée. Prévenez votre administrateur.",
    KEY_NOT_LOGGED:
      "Le serveur a annoncé une clé que son journal public des clés ne contient pas : il pourrait substituer des clés. N'envoyez rien tant que ce n'est pas expliqué.",
  },
  en: {
    BAD_REQUEST: 'The request is malformed.',
    NOT_AUTHENTICATED: 'Log in first.',
    ALREADY_AUTHENTICATED: 'This connection is already logged in.',
    UNKNOWN_USER: 'No user has that name.',
    WRONG_PASSWORD: 'Wrong password.',
    WRONG_CREDENTIALS: 'Wrong username or password.',
    INVALID_USERNAME: 'Invalid username: 3 to 32 characters, letters, digits, dot, hyphen or underscore.',
    USERNAME_TAKEN: 'That username is taken.',
    USERNAME_LOOKALIKE: 'That username looks too much like an existing one (l, I and 1; O and 0; rn and m): choose another.',
    WEAK_PASSWORD:
      'Password too weak: at least 12 characters, including one that is not a letter or digit, and not a common password, a simple pattern or your username.',
    TOO_MANY_ATTEMPTS: 'Too many attempts. Try again {after}.',
    BANNED: 'This account or address was banned by an administrator.',
    KICKED: 'This account is suspended {until}.',
    PASSWORD_CHANGE_REQUIRED: 'Choose a new password to go on.',
    INVALID_SESSION: 'Your session has expired. Log in again.',
    UNKNOWN_ROOM: 'That room does not exist.',
    NOT_A_MEMBER: 'You are not a member of that room.',
    ALREADY_MEMBER: 'You are already a member of that room.',
    ROOM_CLOSED: 'That room is by invitation only.',
    NO_SUCH_REQUEST: 'That request no longer exists (already decided?).',
    TEXT_TOO_LONG: 'The message is too long (4,000 characters at most).',
    INVALID_TEXT: 'The message is empty or holds forbidden characters.',
    INVALID_NAME: 'The name is empty, too long or holds forbidden characters.',
    NOT_ADMIN: 'Only administrators can do that.',
    ALREADY_FRIENDS: 'You are already friends.',
    NOT_FRIENDS: 'You are not friends.',
    SELF_FRIEND: 'You cannot add yourself as a friend.',
    NO_FRIEND_REQUEST: 'There is no such friend request.',
    ROOM_EXISTS: 'A room with that name exists.',
    RATE_LIMITED: 'Slow down! Too many requests at once, try again in a moment.',
    BUSY: 'The server is busy: try again in a moment.',
    DUPLICATE_ROOM: 'The request names the same room twice.',
    NO_KEYS: 'That user has not published encryption keys yet.',
    BACKUP_CONFLICT: 'Another of your devices saved its keys at the same moment: try again.',
    UNKNOWN_DEVICE: 'None of your devices has that id.',
    TOO_MANY_DEVICES: 'You have too many devices: revoke one you no longer use.',
    INVALID_KEYS: 'The encryption keys are malformed.',
    SIGNAL_TOO_LARGE: 'The direct-connection message is too large.',
    ENVELOPE_TOO_LARGE: 'The encrypted message is too large.',
    STORE_FULL: 'Your friend has too many waiting messages.',
    PEER_OFFLINE: 'That friend is not connected.',
    SHUTTING_DOWN: 'The server is restarting. Reconnecting by itself…',
    CANNOT_TARGET_SELF: 'You cannot do that to your own account.',
    INVALID_AUTH_MESSAGE: 'The server could not read the login message. Try again; if it happens again, tell your administrator.',
    NO_AUTH_EXCHANGE: 'Logging in took too long or was interrupted: start again.',
    INTERNAL: 'Internal server error. Try again later.',
    DISCONNECTED: 'Cannot reach the server.',
    TIMEOUT: 'The server did not answer in time.',
    CERT_MISMATCH: "The server's certificate is not the one recorded: connection refused.",
    BAD_REPLY: 'The server sent a reply this app does not understand.',
    KEY_CHANGED: "This friend's security key changed: check the safety number before sending.",
    LOCKED: 'Direct messages are locked: type your password.',
    CLOSED: 'Direct messages are closed for this session.',
    WEAK_KEY_STRETCHING: 'The server asks for weaker password protection than this app requires: connection refused. Tell your administrator.',
    KEY_NOT_LOGGED: "The server announced a key its public key log does not hold: it may be swapping keys. Don't send anything until this is explained.",
  },
};

export function formatDateTime(lang: Lang, ms: number): string {
  return new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'long', timeStyle: 'short' }).format(ms);
}

function formatTime(lang: Lang, ms: number): string {
  return new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { timeStyle: 'short' }).format(ms);
}

/** The error in the user's words, with "until when" filled in where the code carries it. */
export function errorText(lang: Lang, error: UserError): string {
  const why = error.code === 'WEAK_PASSWORD' && error.reason ? PASSWORD_WEAKNESS_WORDS[lang][error.reason] : undefined;
  const words = why ?? ERROR_WORDS[lang][error.code];
  if (!words) return error.message;
  const until = error.until;
  const after =
    until === undefined ? (lang === 'fr' ? 'plus tard' : 'later') : `${lang === 'fr' ? 'à' : 'at'} ${formatTime(lang, until)}`;
  return words.replace('{after}', after).replace('{until}', untilPhrase(lang, until));
}

/** "jusqu'à 14:32" / "jusqu'au 3 mars 2026 à 14:32" / "until 14:32" … */
export function untilPhrase(lang: Lang, until: number | undefined): string {
  if (until === undefined) return lang === 'fr' ? 'jusqu\'à nouvel ordre' : 'until further notice';
  const sameDay = new Date(until).toDateString() === new Date().toDateString();
  if (lang === 'fr') return sameDay ? `jusqu'à ${formatTime(lang, until)}` : `jusqu'au ${formatDateTime(lang, until)}`;
  return `until ${sameDay ? formatTime(lang, until) : formatDateTime(lang, until)}`;
}
