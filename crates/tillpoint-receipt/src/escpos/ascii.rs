//! Text a thermal printer prints the same whatever code page it was left in.
//!
//! Bytes above 0x7F mean different letters on different printers (and UTF-8 comes out as two
//! or three wrong ones), so nothing above 0x7F is ever sent. Accented Latin letters lose their
//! accent, typographic punctuation becomes its plain ASCII cousin, and anything else becomes
//! `?`: a customer can still read `Creme brulee`, and a `?` shows something was there.

/// `text` in printable ASCII (0x20–0x7E) only. Whitespace of any kind becomes a space, so
/// a stray newline in a product name cannot break the line accounting.
pub(super) fn to_printable_ascii(text: &str) -> String {
    let mut ascii = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ' '..='~' => ascii.push(c),
            c if c.is_whitespace() => ascii.push(' '),
            // Combining accents (text in decomposed form): the base letter was already kept.
            '\u{0300}'..='\u{036F}' => {}
            c => ascii.push_str(nearest_ascii(c)),
        }
    }
    ascii
}

fn nearest_ascii(c: char) -> &'static str {
    match c {
        'À'..='Å' | 'Ā' | 'Ă' | 'Ą' => "A",
        'à'..='å' | 'ā' | 'ă' | 'ą' | 'ª' => "a",
        'Æ' => "AE",
        'æ' => "ae",
        'Ç' | 'Ć' | 'Č' => "C",
        'ç' | 'ć' | 'č' => "c",
        'Ð' | 'Ď' | 'Đ' => "D",
        'ð' | 'ď' | 'đ' => "d",
        'È'..='Ë' | 'Ē' | 'Ė' | 'Ę' | 'Ě' => "E",
        'è'..='ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'Ğ' => "G",
        'ğ' => "g",
        'Ì'..='Ï' | 'Ī' | 'İ' => "I",
        'ì'..='ï' | 'ī' | 'ı' => "i",
        'Ł' => "L",
        'ł' => "l",
        'Ñ' | 'Ń' | 'Ň' => "N",
        'ñ' | 'ń' | 'ň' => "n",
        'Ò'..='Ö' | 'Ø' | 'Ō' | 'Ő' => "O",
        'ò'..='ö' | 'ø' | 'ō' | 'ő' | 'º' => "o",
        'Œ' => "OE",
        'œ' => "oe",
        'Ř' => "R",
        'ř' => "r",
        'Ś' | 'Š' | 'Ş' => "S",
        'ś' | 'š' | 'ş' => "s",
        'ß' => "ss",
        'Ť' | 'Ţ' => "T",
        'ť' | 'ţ' => "t",
        'Þ' => "Th",
        'þ' => "th",
        'Ù'..='Ü' | 'Ū' | 'Ů' | 'Ű' => "U",
        'ù'..='ü' | 'ū' | 'ů' | 'ű' => "u",
        'Ý' | 'Ÿ' => "Y",
        'ý' | 'ÿ' => "y",
        'Ź' | 'Ż' | 'Ž' => "Z",
        'ź' | 'ż' | 'ž' => "z",
        '‘' | '’' | '‚' | '‛' | '′' | '´' => "'",
        '“' | '”' | '„' | '″' | '«' | '»' => "\"",
        '‐' | '‑' | '‒' | '–' | '—' | '−' => "-",
        '…' => "...",
        '×' => "x",
        '÷' => "/",
        '•' | '·' => "*",
        '€' => "EUR",
        '£' => "GBP",
        '©' => "(c)",
        '®' => "(R)",
        '™' => "TM",
        _ => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_are_dropped_and_punctuation_made_plain() {
        assert_eq!(to_printable_ascii("Crème brûlée"), "Creme brulee");
        assert_eq!(to_printable_ascii("Müller’s — Ærø"), "Muller's - AEro");
        assert_eq!(to_printable_ascii("Straße “Süd”…"), "Strasse \"Sud\"...");
        // The same word in decomposed form: e followed by a combining acute accent.
        assert_eq!(to_printable_ascii("Cafe\u{0301}"), "Cafe");
    }

    #[test]
    fn anything_without_a_plain_cousin_is_a_question_mark() {
        assert_eq!(to_printable_ascii("茶 🍵"), "? ?");
        assert_eq!(to_printable_ascii("a\u{7}b"), "a?b");
    }

    #[test]
    fn whitespace_and_control_characters_never_reach_the_printer() {
        assert_eq!(to_printable_ascii("two\nlines\there"), "two lines here");
        let all: String = (0..=0x2FFF_u32).filter_map(char::from_u32).collect();
        assert!(to_printable_ascii(&all)
            .bytes()
            .all(|byte| (0x20..=0x7E).contains(&byte)));
    }
}
