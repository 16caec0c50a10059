//! Lists and dicts that methods can change, as Python's do in dbt's Jinja:
//! `{% do cols.append(c) %}`, `{% do seen.update({k: v}) %}`. minijinja's own values are
//! immutable, so [`super::preprocess`] turns the literals of a template that changes them into
//! `__list([...])` and `__dict({...})`.

use std::fmt;
use std::sync::{Arc, Mutex};

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};

/// A list whose `append`, `extend`, `insert`, `pop` and `remove` change it in place.
#[derive(Debug, Default)]
pub struct List(Mutex<Vec<Value>>);

/// A dict (in insertion order) whose `update`, `pop` and `setdefault` change it in place.
#[derive(Debug, Default)]
pub struct Dict(Mutex<Vec<(Value, Value)>>);

impl Dict {
    /// A dict of these entries, in order.
    pub fn from_pairs(entries: Vec<(Value, Value)>) -> Self {
        Self(Mutex::new(entries))
    }
}

/// `__list(seq)`: a changeable copy of a sequence.
pub fn list(items: Value) -> Result<Value, Error> {
    let items: Vec<Value> = items.try_iter()?.collect();
    Ok(Value::from_object(List(Mutex::new(items))))
}

/// `__dict(map)`: a changeable copy of a mapping.
pub fn dict(map: Value) -> Result<Value, Error> {
    Ok(Value::from_object(Dict(Mutex::new(pairs(&map)?))))
}

/// The `(key, value)` pairs of any mapping value.
fn pairs(map: &Value) -> Result<Vec<(Value, Value)>, Error> {
    if let Some(d) = map.downcast_object_ref::<Dict>() {
        return Ok(d.0.lock().expect("dict lock").clone());
    }
    map.try_iter()?.map(|k| Ok((k.clone(), map.get_item(&k)?))).collect()
}

fn arity(method: &str, args: &[Value], n: std::ops::RangeInclusive<usize>) -> Result<(), Error> {
    if n.contains(&args.len()) {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::InvalidOperation, format!("{method}() takes {n:?} arguments, got {}", args.len())))
    }
}

impl Object for List {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Seq
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let items = self.0.lock().expect("list lock");
        let index = i64::try_from(key.clone()).ok()?;
        let index = if index < 0 { items.len() as i64 + index } else { index };
        items.get(usize::try_from(index).ok()?).cloned()
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.lock().expect("list lock").clone())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.0.lock().expect("list lock").len())
    }

    fn call_method(self: &Arc<Self>, _: &State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        let mut items = self.0.lock().expect("list lock");
        match method {
            "append" => {
                arity(method, args, 1..=1)?;
                items.push(args[0].clone());
            }
            "extend" => {
                arity(method, args, 1..=1)?;
                items.extend(args[0].try_iter()?);
            }
            "insert" => {
                arity(method, args, 2..=2)?;
                let at = usize::try_from(args[0].clone())?.min(items.len());
                items.insert(at, args[1].clone());
            }
            "pop" => {
                arity(method, args, 0..=1)?;
                let at = match args.first() {
                    Some(i) => usize::try_from(i.clone())?,
                    None => items
                        .len()
                        .checked_sub(1)
                        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "pop from an empty list"))?,
                };
                if at >= items.len() {
                    return Err(Error::new(ErrorKind::InvalidOperation, "pop index out of range"));
                }
                return Ok(items.remove(at));
            }
            "remove" => {
                arity(method, args, 1..=1)?;
                let at = items
                    .iter()
                    .position(|v| v == &args[0])
                    .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "list.remove(x): x not in list"))?;
                items.remove(at);
            }
            "index" => {
                arity(method, args, 1..=1)?;
                let at = items.iter().position(|v| v == &args[0]);
                return at
                    .map(Value::from)
                    .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "list.index(x): x not in list"));
            }
            "count" => {
                arity(method, args, 1..=1)?;
                return Ok(Value::from(items.iter().filter(|v| *v == &args[0]).count()));
            }
            _ => return Err(Error::from(ErrorKind::UnknownMethod)),
        }
        Ok(Value::from(()))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items = self.0.lock().expect("list lock").clone();
        fmt::Display::fmt(&Value::from(items), f)
    }
}

impl Object for Dict {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let entries = self.0.lock().expect("dict lock");
        entries.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.lock().expect("dict lock").iter().map(|(k, _)| k.clone()).collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.0.lock().expect("dict lock").len())
    }

    fn call_method(self: &Arc<Self>, _: &State<'_, '_>, method: &str, args: &[Value]) -> Result<Value, Error> {
        let mut entries = self.0.lock().expect("dict lock");
        let set = |entries: &mut Vec<(Value, Value)>, key: Value, value: Value| match entries
            .iter_mut()
            .find(|(k, _)| *k == key)
        {
            Some(entry) => entry.1 = value,
            None => entries.push((key, value)),
        };
        match method {
            "update" => {
                arity(method, args, 1..=1)?;
                drop(entries);
                let new = pairs(&args[0])?;
                let mut entries = self.0.lock().expect("dict lock");
                for (k, v) in new {
                    set(&mut entries, k, v);
                }
                Ok(Value::from(()))
            }
            "get" => {
                arity(method, args, 1..=2)?;
                let found = entries.iter().find(|(k, _)| k == &args[0]).map(|(_, v)| v.clone());
                Ok(found.or_else(|| args.get(1).cloned()).unwrap_or(Value::from(())))
            }
            "setdefault" => {
                arity(method, args, 1..=2)?;
                if let Some((_, v)) = entries.iter().find(|(k, _)| k == &args[0]) {
                    return Ok(v.clone());
                }
                let value = args.get(1).cloned().unwrap_or(Value::from(()));
                entries.push((args[0].clone(), value.clone()));
                Ok(value)
            }
            "pop" => {
                arity(method, args, 1..=2)?;
                match entries.iter().position(|(k, _)| k == &args[0]) {
                    Some(at) => Ok(entries.remove(at).1),
                    None => args
                        .get(1)
                        .cloned()
                        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, format!("key {} not in dict", args[0]))),
                }
            }
            "items" => Ok(Value::from(
                entries.iter().map(|(k, v)| Value::from(vec![k.clone(), v.clone()])).collect::<Vec<_>>(),
            )),
            "keys" => Ok(Value::from(entries.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>())),
            "values" => Ok(Value::from(entries.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>())),
            _ => Err(Error::from(ErrorKind::UnknownMethod)),
        }
    }
}
