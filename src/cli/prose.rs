//! Sentences for people: control characters made visible (a file name may
//! hold a newline), a capital and a full stop, wrapped to fit 80 columns.

/// The width human output fits in.
pub const WIDTH: usize = 80;

/// `text` as a sentence: its first letter capitalised, ending in a stop.
pub fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let mut sentence: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !sentence.ends_with(['.', '!', '?']) {
        sentence.push('.');
    }
    sentence
}

/// `text` wrapped at spaces into lines of at most [`WIDTH`] columns, each
/// starting with `indent` spaces; a word longer than a line is cut.
pub fn wrap(text: &str, indent: usize) -> String {
    let room = WIDTH.saturating_sub(indent).max(20);
    let visible = visible(text);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in visible.split(' ').filter(|word| !word.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = line.chars().count();
            let needed = if used == 0 {
                word.len()
            } else {
                used + 1 + word.len()
            };
            if needed <= room {
                if used > 0 {
                    line.push(' ');
                }
                line.extend(word.iter());
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            let rest = word.split_off(room);
            lines.push(word.iter().collect());
            word = rest;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    let pad = " ".repeat(indent);
    lines.iter().map(|line| format!("{pad}{line}\n")).collect()
}

/// Control characters escaped (`\n`, `\t`, `\u{1b}`), the rest as is.
pub fn visible(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().collect()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_are_capitalised_stopped_and_wrapped_to_80_columns() {
        assert_eq!(sentence("it is ready"), "It is ready.");
        assert_eq!(sentence("'.a' is hidden."), "'.a' is hidden.");
        let long = "word ".repeat(40);
        let wrapped = wrap(&long, 2);
        assert!(wrapped.lines().all(|line| line.chars().count() <= WIDTH));
        assert!(wrapped.lines().all(|line| line.starts_with("  word")));
        let cut = wrap(&"x".repeat(100), 2);
        assert_eq!(cut.lines().count(), 2);
        assert_eq!(visible("a\nb"), "a\\nb");
    }
}
