//! The records to stitch: an id and named attributes per record, stored column by column with
//! each distinct value kept once.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;

use crate::error::{Error, RecordsError, Result};

/// Records with a unique id each and the same attribute columns, values interned per column.
#[derive(Debug, Default)]
pub struct RecordSet {
    columns: Vec<String>,
    ids: Vec<Arc<str>>,
    seen: HashSet<Arc<str>>,
    values: Vec<Interned>,
}

/// One column's distinct values; code 0 is NULL.
#[derive(Debug)]
pub(crate) struct Interned {
    pub(crate) dict: Vec<Arc<str>>,
    lookup: HashMap<Arc<str>, u32>,
    pub(crate) codes: Vec<u32>,
}

impl Interned {
    fn new() -> Self {
        Self { dict: vec![Arc::from("")], lookup: HashMap::new(), codes: Vec::new() }
    }

    fn push(&mut self, value: Option<&str>) {
        let code = match value {
            None => 0,
            Some(v) => match self.lookup.get(v) {
                Some(code) => *code,
                None => {
                    let code = self.dict.len() as u32;
                    let value: Arc<str> = Arc::from(v);
                    self.dict.push(value.clone());
                    self.lookup.insert(value, code);
                    code
                }
            },
        };
        self.codes.push(code);
    }
}

impl RecordSet {
    /// An empty set whose records have these attribute columns (the id is separate).
    pub fn new(columns: Vec<String>) -> Result<Self> {
        let mut names = HashSet::new();
        if let Some(dup) = columns.iter().find(|c| !names.insert(c.as_str())) {
            return Err(RecordsError::DuplicateColumn(dup.clone()).into());
        }
        let values = columns.iter().map(|_| Interned::new()).collect();
        Ok(Self { columns, values, ..Self::default() })
    }

    /// Adds a record. Ids must be unique and non-empty; `values` follow [`columns`](Self::columns),
    /// with `None` (or an empty string) for a missing value.
    pub fn push(&mut self, id: &str, values: &[Option<&str>]) -> Result<()> {
        self.insert(id, values.len(), values.iter().copied())
    }

    /// Adds a record from `count` values, without collecting them first.
    fn insert<'v>(&mut self, id: &str, count: usize, values: impl Iterator<Item = Option<&'v str>>) -> Result<()> {
        if count != self.columns.len() {
            return Err(RecordsError::Ragged { id: id.to_owned(), values: count, columns: self.columns.len() }.into());
        }
        if id.is_empty() {
            return Err(RecordsError::MissingId { record: self.ids.len() + 1 }.into());
        }
        let id: Arc<str> = Arc::from(id);
        if !self.seen.insert(id.clone()) {
            return Err(RecordsError::DuplicateId(id.to_string()).into());
        }
        self.ids.push(id);
        for (column, value) in self.values.iter_mut().zip(values) {
            column.push(value.filter(|v| !v.trim().is_empty()));
        }
        Ok(())
    }

    /// Reads a CSV file with a header. The id column is `record_id`, `rec_id` or `id` when one
    /// exists, else the first; every other column is an attribute. Fields are trimmed; empty
    /// fields are missing values.
    pub fn from_csv(reader: impl Read) -> Result<Self> {
        let mut csv = csv::ReaderBuilder::new().trim(csv::Trim::All).flexible(false).from_reader(reader);
        let bad = |e: csv::Error| Error::from(RecordsError::Csv(e.to_string()));
        let header: Vec<String> = csv.headers().map_err(bad)?.iter().map(str::to_string).collect();
        if header.is_empty() {
            return Err(RecordsError::Csv("no header".into()).into());
        }
        let id_column = ["record_id", "rec_id", "id"]
            .iter()
            .find_map(|name| header.iter().position(|h| h.eq_ignore_ascii_case(name)))
            .unwrap_or(0);
        let columns = header.iter().enumerate().filter(|(i, _)| *i != id_column).map(|(_, h)| h.clone()).collect();
        let mut records = Self::new(columns)?;
        let mut row = csv::StringRecord::new();
        while csv.read_record(&mut row).map_err(bad)? {
            let values = row.iter().enumerate().filter(|(i, _)| *i != id_column).map(|(_, v)| Some(v));
            records.insert(&row[id_column], row.len() - 1, values)?;
        }
        Ok(records)
    }

    /// The attribute column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// How many records there are.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The id of record `i` (in insertion order).
    pub fn id(&self, i: usize) -> &str {
        &self.ids[i]
    }

    pub(crate) fn column(&self, i: usize) -> &Interned {
        &self.values[i]
    }

    /// The same records in id order, their values interned in that order: the link each record
    /// is given then does not depend on the order a query returned its rows in (on a cluster,
    /// whichever partition finished first).
    fn sorted_by_id(self) -> Self {
        let mut order: Vec<usize> = (0..self.ids.len()).collect();
        order.sort_unstable_by(|&a, &b| self.ids[a].cmp(&self.ids[b]));
        let mut values: Vec<Interned> = self.values.iter().map(|_| Interned::new()).collect();
        for (column, sorted) in self.values.iter().zip(&mut values) {
            for &i in &order {
                let code = column.codes[i] as usize;
                sorted.push((code != 0).then(|| &*column.dict[code]));
            }
        }
        let ids = order.iter().map(|&i| self.ids[i].clone()).collect();
        Self { columns: self.columns, ids, seen: self.seen, values }
    }
}

/// The id column of records read from a query.
pub const RECORD_ID_COLUMN: &str = "record_id";

/// Records read from query rows, as both engines' `stitch_identity` read them: the
/// [`RECORD_ID_COLUMN`] is the id and every other column an attribute.
#[derive(Debug)]
pub struct QueryRecords {
    id: usize,
    records: RecordSet,
}

impl QueryRecords {
    /// Starts reading rows with these column names.
    pub fn new(columns: &[String]) -> Result<Self> {
        let Some(id) = columns.iter().position(|c| c == RECORD_ID_COLUMN) else {
            return Err(RecordsError::NoIdColumn { columns: columns.to_vec() }.into());
        };
        let attributes = columns.iter().enumerate().filter(|(i, _)| *i != id).map(|(_, c)| c.clone()).collect();
        Ok(Self { id, records: RecordSet::new(attributes)? })
    }

    /// Adds one row, values in the query's column order (`None` for NULL).
    pub fn push(&mut self, row: &[Option<&str>]) -> Result<()> {
        let Some(id) = row.get(self.id).copied().flatten() else {
            return Err(RecordsError::MissingId { record: self.records.len() + 1 }.into());
        };
        let (before, after) = (&row[..self.id], &row[self.id + 1..]);
        self.records.insert(id, row.len() - 1, before.iter().chain(after).copied())
    }

    /// The records read, in id order.
    pub fn finish(self) -> RecordSet {
        self.records.sorted_by_id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_records_come_out_in_id_order_whatever_order_they_came_in() {
        let read = |rows: &[[Option<&str>; 2]]| {
            let mut records = QueryRecords::new(&["email".into(), RECORD_ID_COLUMN.into()]).unwrap();
            for row in rows {
                records.push(row).unwrap();
            }
            let set = records.finish();
            let column = set.column(0);
            (0..set.len())
                .map(|i| (set.id(i).to_owned(), column.codes[i], column.dict[column.codes[i] as usize].to_string()))
                .collect::<Vec<_>>()
        };
        let rows = [[Some("b@x.co"), Some("2")], [None, Some("3")], [Some("a@x.co"), Some("1")]];
        let reversed = [rows[2], rows[1], rows[0]];
        let sorted = read(&rows);
        assert_eq!(sorted.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(), ["1", "2", "3"]);
        assert_eq!(sorted[2].1, 0, "a missing value stays missing");
        assert_eq!(sorted, read(&reversed), "ids, values and their codes");
    }

    #[test]
    fn csv_with_padded_separators_is_read() {
        let csv = "rec_id, given_name, surname\nrec-1-org, jane, doe\nrec-1-dup-0, , doe\n";
        let records = RecordSet::from_csv(csv.as_bytes()).unwrap();
        assert_eq!(records.columns(), ["given_name", "surname"]);
        assert_eq!(records.len(), 2);
        assert_eq!(records.id(1), "rec-1-dup-0");
        assert_eq!(records.column(0).codes, [1, 0]);
        assert_eq!(records.column(1).codes, [1, 1]);
    }

    #[test]
    fn query_rows_take_record_id_wherever_it_is() {
        let columns = vec!["email".to_string(), "record_id".to_string(), "name".to_string()];
        let mut rows = QueryRecords::new(&columns).unwrap();
        rows.push(&[Some("a@b.co"), Some("r1"), None]).unwrap();
        let null_id = rows.push(&[Some("c@d.co"), None, Some("x")]).unwrap_err().to_string();
        assert!(null_id.contains("record 2 has no record_id"), "{null_id}");
        let records = rows.finish();
        assert_eq!((records.columns(), records.id(0)), (&["email".to_string(), "name".to_string()][..], "r1"));
        let missing = QueryRecords::new(&["id".to_string()]).unwrap_err().to_string();
        assert!(missing.contains("must return a column named record_id (it returns id)"), "{missing}");
    }

    #[test]
    fn bad_records_are_errors() {
        let mut records = RecordSet::new(vec!["email".into()]).unwrap();
        records.push("a", &[Some("x@y.z")]).unwrap();
        let dup = records.push("a", &[None]).unwrap_err().to_string();
        assert!(dup.contains("'a' appears twice"), "{dup}");
        assert!(records.push("b", &[]).unwrap_err().to_string().contains("0 values for 1 columns"));
        assert!(RecordSet::new(vec!["x".into(), "x".into()]).is_err());
        assert!(RecordSet::from_csv("id,a\n1,2,3\n".as_bytes()).is_err());
    }
}
