//! Plain aligned columns: enough for lists of tools, resources and prompts, without a table crate.

/// The widest a cell of any column but the last may be before it is cut.
const MAX_CELL: usize = 48;
/// The widest the last column may be before it is cut.
const MAX_LAST: usize = 100;

/// Rows under a header, printed with columns padded to their widest cell.
#[derive(Debug)]
pub(crate) struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub(crate) fn new(header: &[&'static str]) -> Self {
        Self {
            header: header.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row: one cell per column (missing cells are empty).
    pub(crate) fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, one line per row, ending with a newline. No rows: just the header.
    pub(crate) fn render(&self) -> String {
        let columns = self.header.len();
        let cells: Vec<Vec<String>> =
            std::iter::once(self.header.iter().map(|h| (*h).to_owned()).collect())
                .chain(self.rows.iter().map(|row| {
                    (0..columns)
                        .map(|i| {
                            let limit = if i + 1 == columns { MAX_LAST } else { MAX_CELL };
                            cell(row.get(i).map_or("", String::as_str), limit)
                        })
                        .collect()
                }))
                .collect();
        let widths: Vec<usize> = (0..columns)
            .map(|i| {
                cells
                    .iter()
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for row in &cells {
            let mut line = String::new();
            for (i, text) in row.iter().enumerate() {
                if i + 1 == columns {
                    line.push_str(text);
                } else {
                    line.push_str(text);
                    let pad = widths[i] - text.chars().count() + 2;
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// One line of at most `limit` characters: line breaks become spaces, the rest is cut with `…`.
fn cell(text: &str, limit: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= limit {
        return flat;
    }
    let mut cut: String = flat.chars().take(limit - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up() {
        let mut t = Table::new(&["NAME", "DESCRIPTION"]);
        t.row(vec!["echo".into(), "Echoes\nthe text back".into()]);
        t.row(vec!["slow_count".into(), String::new()]);
        assert_eq!(
            t.render(),
            "NAME        DESCRIPTION\necho        Echoes the text back\nslow_count\n"
        );
    }

    #[test]
    fn long_cells_are_cut() {
        let long = "x".repeat(200);
        assert_eq!(cell(&long, 10).chars().count(), 10);
        assert!(cell(&long, 10).ends_with('…'));
    }
}
