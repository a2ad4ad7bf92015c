//! Maps a path in an import file (`programmes[0].sections[1].obligations[2].timeframe`)
//! to the line it is on, so every problem can be reported where it is.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

#[derive(Debug, Default)]
pub struct Lines(HashMap<String, usize>);

impl Lines {
    pub fn of(source: &str) -> Lines {
        let mut walker = Walker::default();
        // A file that does not parse is reported by serde with its own location.
        let _ = Parser::new_from_str(source).load(&mut walker, false);
        Lines(walker.lines)
    }

    /// The line of the path, or of its nearest enclosing node that has one.
    pub fn line(&self, path: &str) -> Option<usize> {
        let mut path = path;
        loop {
            if let Some(line) = self.0.get(path) {
                return Some(*line);
            }
            let cut = path.rfind(['.', '['])?;
            path = &path[..cut];
        }
    }
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, index: usize },
}

#[derive(Default)]
struct Walker {
    stack: Vec<Frame>,
    lines: HashMap<String, usize>,
}

impl Walker {
    /// The path of the node about to start under the current frame.
    fn child_path(&self) -> String {
        match self.stack.last() {
            None => String::new(),
            Some(Frame::Map { path, key }) => join(path, key.as_deref().unwrap_or("")),
            Some(Frame::Seq { path, index }) => format!("{path}[{index}]"),
        }
    }

    /// A value is complete: the parent moves on to its next key or item.
    fn value_done(&mut self) {
        match self.stack.last_mut() {
            Some(Frame::Map { key, .. }) => *key = None,
            Some(Frame::Seq { index, .. }) => *index += 1,
            None => {}
        }
    }

    fn record(&mut self, path: String, mark: Marker) {
        self.lines.entry(path).or_insert(mark.line());
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl MarkedEventReceiver for Walker {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, ..) => {
                if let Some(Frame::Map { path, key }) = self.stack.last_mut() {
                    if key.is_none() {
                        let full = join(path, &value);
                        *key = Some(value);
                        self.record(full, mark);
                        return;
                    }
                }
                let path = self.child_path();
                self.record(path, mark);
                self.value_done();
            }
            Event::Alias(_) => self.value_done(),
            Event::MappingStart(..) => {
                let path = self.child_path();
                self.record(path.clone(), mark);
                self.stack.push(Frame::Map { path, key: None });
            }
            Event::SequenceStart(..) => {
                let path = self.child_path();
                self.record(path.clone(), mark);
                self.stack.push(Frame::Seq { path, index: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.value_done();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_lines() {
        let source = "\
parties:
  - code: KZ
    name: {en: Kazakhstan}
programmes:
  - key: p
    sections:
      - code: s
        obligations:
          - number: \"1.1\"
            timeframe: 2025-Q5
";
        let lines = Lines::of(source);
        assert_eq!(lines.line("parties[0].code"), Some(2));
        assert_eq!(lines.line("parties[0].name.en"), Some(3));
        assert_eq!(
            lines.line("programmes[0].sections[0].obligations[0].timeframe"),
            Some(10)
        );
        // A missing field points at its record.
        assert_eq!(
            lines.line("programmes[0].sections[0].obligations[0].kind"),
            Some(9)
        );
    }
}
