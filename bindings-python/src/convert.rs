//! Python values to JSON values (policy specs, JWK Sets), at build time only.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// Depth limit, so a self-referencing structure cannot recurse forever.
const MAX_DEPTH: usize = 64;

/// Converts a JSON-like Python value (dict/Mapping with str keys, list, tuple,
/// str, int, float, bool, None). `Err` carries what was wrong, for the caller
/// to wrap in the right error family.
pub fn to_value(obj: &Bound<'_, PyAny>) -> Result<Value, String> {
    walk(obj, "$", 0)
}

fn walk(obj: &Bound<'_, PyAny>, at: &str, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!("{at}: nested more than {MAX_DEPTH} levels deep"));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return s
            .to_cow()
            .map(|c| Value::String(c.into_owned()))
            .map_err(|e| format!("{at}: {e}"));
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.cast::<PyInt>().is_ok() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(format!("{at}: the integer is out of range"));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| format!("{at}: {} is not a JSON number", f.value()));
    }
    if obj.cast::<PyList>().is_ok() || obj.cast::<PyTuple>().is_ok() {
        let mut out = Vec::new();
        for (i, item) in obj
            .try_iter()
            .map_err(|e| format!("{at}: {e}"))?
            .enumerate()
        {
            let item = item.map_err(|e| format!("{at}[{i}]: {e}"))?;
            out.push(walk(&item, &format!("{at}[{i}]"), depth + 1)?);
        }
        return Ok(Value::Array(out));
    }
    if let Ok(m) = obj.cast::<PyMapping>() {
        let mut out = Map::new();
        let items = m.items().map_err(|e| format!("{at}: {e}"))?;
        for pair in items.iter() {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) =
                pair.extract().map_err(|e| format!("{at}: {e}"))?;
            let key = k
                .cast::<PyString>()
                .map_err(|_| format!("{at}: a key is not a string ({})", type_name(&k)))?
                .to_cow()
                .map_err(|e| format!("{at}: {e}"))?
                .into_owned();
            let child = format!("{at}.{key}");
            let v = walk(&v, &child, depth + 1)?;
            out.insert(key, v);
        }
        return Ok(Value::Object(out));
    }
    Err(format!("{at}: a {} is not a JSON value", type_name(obj)))
}

pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "value".into())
}
