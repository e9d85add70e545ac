/** The main process's few words to the user (native dialogs), in the renderer's language. */
import type { UiLanguage } from '../ipc/contract.js';

export const DIALOG_TEXT = {
  fr: {
    trustTitle: 'Nouveau serveur',
    trustMessage: 'Faire confiance au serveur {server} ?',
    trustDetail:
      "C'est la première connexion à ce serveur. Son certificat a l'empreinte SHA-256 :\n\n{fingerprint}\n\nComparez-la avec celle que votre service informatique vous a donnée (elle s'affiche au démarrage du serveur). Si elles diffèrent, annulez : quelqu'un pourrait intercepter vos échanges.",
    trust: 'Faire confiance',
    cancel: 'Annuler',
    mismatchTitle: 'Certificat inattendu',
    mismatchMessage: 'Le certificat de {server} a changé : connexion refusée.',
    mismatchDetail:
      "Empreinte reçue :\n{fingerprint}\n\nSi votre service informatique a renouvelé le certificat, choisissez « Changer de serveur » dans les paramètres. Sinon, prévenez-le : quelqu'un pourrait intercepter vos échanges.",
    presetError: 'La configuration du serveur fournie par le service informatique est invalide',
  },
  en: {
    trustTitle: 'New server',
    trustMessage: 'Trust the server {server}?',
    trustDetail:
      'This is the first connection to this server. Its certificate has the SHA-256 fingerprint:\n\n{fingerprint}\n\nCompare it with the one your IT department gave you (the server prints it when it starts). If they differ, cancel: someone could be intercepting your traffic.',
    trust: 'Trust',
    cancel: 'Cancel',
    mismatchTitle: 'Unexpected certificate',
    mismatchMessage: "{server}'s certificate changed: connection refused.",
    mismatchDetail:
      'Fingerprint received:\n{fingerprint}\n\nIf your IT department renewed the certificate, choose "Change server" in the settings. Otherwise tell them: someone could be intercepting your traffic.',
    presetError: 'The server configuration provided by IT is invalid',
  },
} as const satisfies Record<UiLanguage, Record<string, string>>;

export function dialogText(lang: UiLanguage, key: keyof (typeof DIALOG_TEXT)['fr'], vars: Record<string, string> = {}): string {
  return DIALOG_TEXT[lang][key].replace(/\{(\w+)\}/g, (whole, name: string) => vars[name] ?? whole);
}
