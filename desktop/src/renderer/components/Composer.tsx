/** The message box: Enter sends, Shift+Enter adds a line; grows with its text. */
import { useEffect, useId, useLayoutEffect, useRef, useState } from 'react';
import { LIMITS } from '../../../../shared/protocol/index.js';
import { useI18n } from '../i18n/index.js';
import { SendIcon } from './Icons.js';

const MAX_VISIBLE_LINES_PX = 220;
const COUNTER_FROM = LIMITS.maxMessageChars - 400;

export function Composer({
  placeholder,
  initial,
  onDraft,
  onSend,
  disabled,
  note,
}: {
  placeholder: string;
  initial: string;
  onDraft: (text: string) => void;
  onSend: (text: string) => void;
  disabled?: boolean;
  note?: string | null;
}) {
  const { t } = useI18n();
  const [text, setText] = useState(initial);
  const ref = useRef<HTMLTextAreaElement>(null);
  const hintId = useId();
  const length = [...text].length;
  const over = length - LIMITS.maxMessageChars;

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, MAX_VISIBLE_LINES_PX)}px`;
  }, [text]);

  useEffect(() => {
    ref.current?.focus();
  }, []);

  function send() {
    const body = text.replace(/\s+$/u, '');
    if (!body.trim() || over > 0 || disabled) return;
    onSend(body);
    setText('');
    onDraft('');
  }

  return (
    <div className="composer">
      {note && <p className="composer-note">{note}</p>}
      <div className={`composer-box ${over > 0 ? 'is-over' : ''}`}>
        <textarea
          ref={ref}
          rows={1}
          value={text}
          placeholder={placeholder}
          aria-label={placeholder}
          aria-describedby={hintId}
          disabled={disabled}
          onChange={(e) => {
            setText(e.target.value);
            onDraft(e.target.value);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              send();
            }
          }}
          data-testid="composer"
        />
        <button type="button" className="send-btn" aria-label={t('room.send')} title={t('room.send')} onClick={send} disabled={disabled || !text.trim() || over > 0}>
          <SendIcon />
        </button>
      </div>
      <p className="composer-hint" id={hintId}>
        {over > 0 ? (
          <span className="over">{t('room.tooLong', { n: over })}</span>
        ) : length >= COUNTER_FROM ? (
          <span>
            {length} / {LIMITS.maxMessageChars}
          </span>
        ) : (
          t('room.composerHint')
        )}
      </p>
    </div>
  );
}
