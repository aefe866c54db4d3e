import { type InputHTMLAttributes, useState } from 'react';

type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange' | 'onBlur' | 'onKeyDown'>;

interface CommitInputProps extends InputProps {
  /** The value the backend holds; give the element `key={value}` so a new one resets the draft. */
  value: string;
  /** Called with the typed text on Enter, or on blur, when it differs from `value` and is valid. */
  onCommit: (text: string, how: 'enter' | 'blur') => void;
  /** False marks the field invalid and keeps the text from being committed. */
  isValid?: (text: string) => boolean;
  /** Enter on an unchanged value: the cashier is done with the field. */
  onFinish?: () => void;
}

/**
 * A cart field edited in place: the draft stays local until Enter (or leaving the field), so
 * a half-typed quantity never reaches the backend. Esc puts the backend's value back.
 */
export function CommitInput({ value, onCommit, isValid, onFinish, className, ...rest }: CommitInputProps) {
  const [draft, setDraft] = useState(value);
  const valid = isValid ? isValid(draft) : true;

  function commit(how: 'enter' | 'blur') {
    if (draft !== value && valid) onCommit(draft, how);
    else if (how === 'blur') setDraft(value);
  }

  return (
    <input
      {...rest}
      className={`input input--cell ${className ?? ''}`}
      value={draft}
      aria-invalid={!valid}
      autoComplete="off"
      spellCheck={false}
      onChange={(e) => {
        setDraft(e.target.value);
      }}
      onBlur={() => {
        commit('blur');
      }}
      onKeyDown={(e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          if (draft === value) onFinish?.();
          else if (valid) commit('enter');
        } else if (e.key === 'Escape' && draft !== value) {
          e.preventDefault();
          e.stopPropagation();
          setDraft(value);
        }
      }}
    />
  );
}
