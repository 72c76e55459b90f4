//! Command lines into words, and options out of words.

use super::Usage;

/// Splits a command line into words the way a POSIX shell would for simple commands:
/// whitespace separates, single quotes keep everything, double quotes keep everything
/// but `\"` and `\\`, a backslash outside quotes escapes the next character. An open
/// quote is an error.
pub fn split(line: &str) -> Result<Vec<String>, Usage> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => word.push(x),
                        None => return Err(Usage),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(x @ ('"' | '\\')) => word.push(x),
                            Some(x) => {
                                word.push('\\');
                                word.push(x);
                            }
                            None => return Err(Usage),
                        },
                        Some(x) => word.push(x),
                        None => return Err(Usage),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(x) = chars.next() {
                    word.push(x);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Options of a subcommand: `-x` flags and `-x VALUE` (or `-xVALUE`) options, each at
/// most once, and positional arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Flags and options given, by letter, with their value (`None` for flags).
    pub given: Vec<(char, Option<String>)>,
    /// Positional arguments, in order.
    pub positional: Vec<String>,
}

impl Options {
    /// Reads `args`; `flags` are options without value, `valued` options with one.
    /// Anything else starting with `-` is a usage error.
    pub fn read(args: &[String], flags: &str, valued: &str) -> Result<Options, Usage> {
        let mut out = Options::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut chars = arg.chars();
            match (chars.next(), chars.next()) {
                (Some('-'), Some(letter)) => {
                    if out.given.iter().any(|(l, _)| *l == letter) {
                        return Err(Usage);
                    }
                    let rest: String = chars.collect();
                    if flags.contains(letter) && rest.is_empty() {
                        out.given.push((letter, None));
                    } else if valued.contains(letter) {
                        let value = if rest.is_empty() { it.next().cloned() } else { Some(rest) };
                        out.given.push((letter, Some(value.ok_or(Usage)?)));
                    } else {
                        return Err(Usage);
                    }
                }
                _ => out.positional.push(arg.clone()),
            }
        }
        Ok(out)
    }

    /// Whether flag or option `letter` was given.
    pub fn has(&self, letter: char) -> bool {
        self.given.iter().any(|(l, _)| *l == letter)
    }

    /// The value of option `letter`.
    pub fn value(&self, letter: char) -> Option<&str> {
        self.given.iter().find(|(l, _)| *l == letter).and_then(|(_, v)| v.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Quotes group words; open quotes are usage errors.
    #[test]
    fn lines_split_like_a_shell() {
        assert_eq!(split("racadm  closessn -i 3").unwrap(), ["racadm", "closessn", "-i", "3"]);
        assert_eq!(
            split(r#"set iDRAC.Users.3.UserName "" "#).unwrap(),
            ["set", "iDRAC.Users.3.UserName", ""]
        );
        assert_eq!(split(r"set x 'a b' c\ d").unwrap(), ["set", "x", "a b", "c d"]);
        assert_eq!(split("get 'open"), Err(Usage));
    }

    /// Options take their value from the next word or glued on; repeats are errors.
    #[test]
    fn options_read_values_and_refuse_repeats() {
        let args = |s: &str| split(s).unwrap();
        let o = Options::read(&args("-A -u root"), "A", "u").unwrap();
        assert!(o.has('A'));
        assert_eq!(o.value('u'), Some("root"));
        assert_eq!(Options::read(&args("-i5"), "", "i").unwrap().value('i'), Some("5"));
        assert_eq!(Options::read(&args("-i"), "", "i"), Err(Usage));
        assert_eq!(Options::read(&args("-x"), "A", "u"), Err(Usage));
        assert_eq!(Options::read(&args("-A -A"), "A", ""), Err(Usage));
    }
}
