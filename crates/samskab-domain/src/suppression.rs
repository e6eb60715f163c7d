//! Small-cell suppression, for figures published beyond one municipality: an umbrella
//! organisation's view of its members across the municipalities that share data with it, and
//! the national view of all municipalities (issue 10). Inside its own municipality a case
//! worker sees its own figures whole; across municipalities no person may be singled out.
//!
//! The rule, on a two-way table of counts of persons (e.g. municipalities × skills) published
//! with its row totals, column totals and grand total:
//!
//! 1. **Primary:** every figure of fewer than [`MIN_PERSONS`] persons is suppressed, a total
//!    included, and a 0 too (the rule is "fewer than 5"; a 0 is as much a statement
//!    about a small group as a 3, and would let a 3 beside it be told from a total).
//! 2. **Complementary:** a figure that can be derived by subtraction is suppressed as well.
//!    Each row and each column is an equation, its cells adding up to its total (the totals'
//!    row and column too, to the grand total). An equation with exactly one suppressed member
//!    gives it away, so a second member of that equation is suppressed: its smallest shown
//!    cell (the least information lost), or its total when no cell is left. Repeated until no
//!    equation has exactly one.
//!
//! That is the line rule statistical offices apply (the "hypercube" method of τ-ARGUS): no
//! suppressed figure is the difference of figures shown on its row or its column. It is not a
//! full audit against every combination of equations, nor against the bounds a figure must lie
//! in; what it guarantees is checked by the tests below, for any table.

use serde::Serialize;

/// The fewest persons a figure published across municipalities may count.
pub const MIN_PERSONS: u64 = 5;

/// A published figure: its count, or suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Figure {
    Shown(u64),
    /// Fewer than [`MIN_PERSONS`] persons, or derivable from the figures shown.
    Suppressed,
}

impl Figure {
    pub fn shown(self) -> Option<u64> {
        match self {
            Figure::Shown(n) => Some(n),
            Figure::Suppressed => None,
        }
    }
}

/// A two-way table of counts as published: cells, their row and column totals and the grand
/// total, each shown or suppressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedTable {
    pub cells: Vec<Vec<Figure>>,
    pub row_totals: Vec<Figure>,
    pub column_totals: Vec<Figure>,
    pub total: Figure,
}

/// Suppresses `cells` (rows of equal length: counts of persons) and their totals by the rule
/// above. Rows of unequal length are read as padded with zeros.
pub fn suppress(cells: &[Vec<u64>]) -> PublishedTable {
    let rows = cells.len();
    let columns = cells.iter().map(Vec::len).max().unwrap_or(0);
    // The table with its margins: row `rows` holds the column totals, column `columns` the row
    // totals, and the corner the grand total.
    let mut value = vec![vec![0u64; columns + 1]; rows + 1];
    for (i, row) in cells.iter().enumerate() {
        for (j, &n) in row.iter().enumerate() {
            value[i][j] = n;
            value[i][columns] += n;
            value[rows][j] += n;
            value[rows][columns] += n;
        }
    }
    let mut hidden: Vec<Vec<bool>> = value
        .iter()
        .map(|row| row.iter().map(|&n| n < MIN_PERSONS).collect())
        .collect();

    // Each equation: its members' places, the total (the last member) last.
    let mut equations: Vec<Vec<(usize, usize)>> = Vec::new();
    for i in 0..=rows {
        equations.push((0..=columns).map(|j| (i, j)).collect());
    }
    for j in 0..=columns {
        equations.push((0..=rows).map(|i| (i, j)).collect());
    }
    loop {
        let mut changed = false;
        for equation in &equations {
            let suppressed = equation.iter().filter(|&&(i, j)| hidden[i][j]).count();
            if suppressed != 1 {
                continue;
            }
            let (cells_of, total) = equation.split_at(equation.len() - 1);
            let second = cells_of
                .iter()
                .filter(|&&(i, j)| !hidden[i][j])
                .min_by_key(|&&(i, j)| value[i][j])
                .or_else(|| total.iter().find(|&&(i, j)| !hidden[i][j]));
            if let Some(&(i, j)) = second {
                hidden[i][j] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }

    let figure = |i: usize, j: usize| {
        if hidden[i][j] {
            Figure::Suppressed
        } else {
            Figure::Shown(value[i][j])
        }
    };
    PublishedTable {
        cells: (0..rows)
            .map(|i| (0..columns).map(|j| figure(i, j)).collect())
            .collect(),
        row_totals: (0..rows).map(|i| figure(i, columns)).collect(),
        column_totals: (0..columns).map(|j| figure(rows, j)).collect(),
        total: figure(rows, columns),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Figure::{Shown, Suppressed};
    use proptest::prelude::*;

    /// Each row and column of the published table with its total, as (members, total).
    fn equations(table: &PublishedTable) -> Vec<(Vec<Figure>, Figure)> {
        let mut out: Vec<(Vec<Figure>, Figure)> = table
            .cells
            .iter()
            .zip(&table.row_totals)
            .map(|(row, total)| (row.clone(), *total))
            .collect();
        out.push((table.column_totals.clone(), table.total));
        for j in 0..table.column_totals.len() {
            let column = table.cells.iter().map(|row| row[j]).collect();
            out.push((column, table.column_totals[j]));
        }
        out.push((table.row_totals.clone(), table.total));
        out
    }

    #[test]
    fn a_small_cell_takes_a_second_one_with_it_on_its_row_and_its_column() {
        // Skills (columns) by municipality (rows); Ballerup has 3 drivers.
        let table = suppress(&[vec![3, 12, 40], vec![9, 20, 31]]);
        assert_eq!(
            table.cells,
            vec![
                vec![Suppressed, Suppressed, Shown(40)],
                vec![Suppressed, Suppressed, Shown(31)],
            ]
        );
        assert_eq!(table.row_totals, vec![Shown(55), Shown(60)]);
        assert_eq!(table.column_totals, vec![Shown(12), Shown(32), Shown(71)]);
        assert_eq!(table.total, Shown(115));
    }

    #[test]
    fn a_small_total_is_suppressed_and_so_is_what_would_give_it_away() {
        // A row of 2 + 2 persons: both cells and the row total go, and with them a second
        // figure of every column and of the totals' column, which would tell them by
        // subtraction.
        let table = suppress(&[vec![2, 2], vec![30, 40]]);
        assert_eq!(table.cells[0], vec![Suppressed, Suppressed]);
        assert_eq!(table.row_totals[0], Suppressed);
        for (members, total) in equations(&table) {
            let hidden = members
                .iter()
                .chain([&total])
                .filter(|f| **f == Suppressed)
                .count();
            assert_ne!(hidden, 1, "{members:?} = {total:?}");
        }
    }

    #[test]
    fn a_table_of_large_counts_is_shown_whole() {
        let table = suppress(&[vec![5, 6], vec![7, 8]]);
        assert_eq!(
            table.cells,
            vec![vec![Shown(5), Shown(6)], vec![Shown(7), Shown(8)]]
        );
        assert_eq!(table.total, Shown(26));
    }

    proptest! {
        /// For any table: no figure shown counts fewer than 5 persons; no row or column has
        /// exactly one suppressed member (that one would be its total less the others); what
        /// is shown is the true count.
        #[test]
        fn no_suppressed_figure_is_the_difference_of_shown_ones(
            cells in proptest::collection::vec(proptest::collection::vec(0u64..40, 1..6), 1..6)
        ) {
            let table = suppress(&cells);
            let columns = cells.iter().map(Vec::len).max().unwrap_or(0);
            for (i, row) in table.cells.iter().enumerate() {
                for (j, figure) in row.iter().enumerate() {
                    if let Some(n) = figure.shown() {
                        prop_assert!(n >= MIN_PERSONS);
                        prop_assert_eq!(n, cells[i].get(j).copied().unwrap_or(0));
                    }
                }
            }
            prop_assert_eq!(table.column_totals.len(), columns);
            for (members, total) in equations(&table) {
                let hidden = members.iter().chain([&total]).filter(|f| **f == Suppressed).count();
                prop_assert_ne!(hidden, 1, "{:?} = {:?}", members, total);
                if hidden == 0 {
                    let sum: u64 = members.iter().filter_map(|f| f.shown()).sum();
                    prop_assert_eq!(Some(sum), total.shown());
                }
            }
            for figure in table.row_totals.iter().chain(&table.column_totals).chain([&table.total]) {
                if let Some(n) = figure.shown() {
                    prop_assert!(n >= MIN_PERSONS);
                }
            }
        }
    }
}
