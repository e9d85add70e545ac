/** A modal on the native <dialog>: focus trap, Escape and the top layer come from the browser. */
import { useEffect, useRef, type ReactNode } from 'react';
import { useI18n } from '../i18n/index.js';
import { CloseIcon } from './Icons.js';

export function Dialog({
  title,
  onClose,
  children,
  wide,
  label,
}: {
  title: ReactNode;
  onClose: () => void;
  children: ReactNode;
  wide?: boolean;
  label?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const { t } = useI18n();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    // showModal focuses the first focusable element (the close button): start on the content instead.
    const first =
      d?.querySelector<HTMLElement>('[data-autofocus]') ??
      d?.querySelector<HTMLElement>('.dialog-inner > :is(input, select, textarea), .dialog-inner > :not(.dialog-head) :is(input, select, textarea)');
    first?.focus();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className={`dialog ${wide ? 'dialog--wide' : ''}`}
      aria-label={label}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
      onClick={(e) => {
        if (e.target === ref.current) onClose(); // a click on the backdrop
      }}
    >
      <div className="dialog-inner">
        <header className="dialog-head">
          <h2>{title}</h2>
          <button type="button" className="icon-btn" aria-label={t('common.close')} onClick={onClose}>
            <CloseIcon />
          </button>
        </header>
        {children}
      </div>
    </dialog>
  );
}
