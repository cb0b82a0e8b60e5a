# Prints each documentation id (second input: one per line, e.g. M:Ns.Type.Method(System.Int32)) that names no
# symbol of the public API (first input: PublicAPI.Shipped.txt and PublicAPI.Unshipped.txt, concatenated).
# Methods and constructors are matched by name and parameter types, so an internal overload of a public method is
# caught; types, properties, fields and events by name. mawk-compatible (no gensub, no backreferences).

# Splits s at the commas outside <>, {}, () and [] into parts[1..n]; returns n.
function split_top(s, parts,    n, depth, i, c, start) {
  n = 0; depth = 0; start = 1
  if (s == "") return 0
  for (i = 1; i <= length(s); i++) {
    c = substr(s, i, 1)
    if (c == "<" || c == "{" || c == "(" || c == "[") depth++
    else if (c == ">" || c == "}" || c == ")" || c == "]") depth--
    else if (c == "," && depth == 0) { parts[++n] = substr(s, start, i - start); start = i + 1 }
  }
  parts[++n] = substr(s, start)
  return n
}

# System.Int32 -> int, ..., token by token (System.StringComparison stays as it is).
function keywords(t,    out, token, i, c) {
  out = ""; token = ""
  for (i = 1; i <= length(t) + 1; i++) {
    c = (i <= length(t)) ? substr(t, i, 1) : ""
    if (c == "" || c == "<" || c == ">" || c == "," || c == "[" || c == "]") {
      out = out ((token in kw) ? kw[token] : token) c; token = ""
    } else token = token c
  }
  return out
}

# System.Nullable<X> -> X (the public API writes X?, and nullable annotations are dropped on that side too).
function unnullable(t,    i, j, depth, c) {
  while ((i = index(t, "System.Nullable<")) > 0) {
    depth = 0
    for (j = i + 16; j <= length(t); j++) {
      c = substr(t, j, 1)
      if (c == "<") depth++
      else if (c == ">") { if (depth == 0) break; depth-- }
    }
    t = substr(t, 1, i - 1) substr(t, i + 16, j - i - 16) substr(t, j + 1)
  }
  return t
}

# A parameter of the public API file: "params System.Action<int, bool>! name = null" -> "System.Action<int,bool>".
function api_param(p) {
  sub(/ = .*$/, "", p)
  sub(/^ +/, "", p)
  while (match(p, /^(this|params|ref|out|in|scoped|readonly) /)) p = substr(p, RLENGTH + 1)
  sub(/ [^ ]+$/, "", p)
  gsub(/[!?]/, "", p)
  gsub(/, /, ",", p)
  return p
}

function doc_param(p) {
  gsub(/\{/, "<", p); gsub(/\}/, ">", p)
  sub(/@$/, "", p)
  return unnullable(keywords(p))
}

BEGIN {
  split("Boolean:bool Byte:byte SByte:sbyte Char:char Int16:short UInt16:ushort Int32:int UInt32:uint Int64:long UInt64:ulong Single:float Double:double Decimal:decimal String:string Object:object Void:void", pairs, " ")
  for (k in pairs) { split(pairs[k], kv, ":"); kw["System." kv[1]] = kv[2] }
}

FNR == NR {
  line = $0
  if (line == "" || line ~ /^#/ || line ~ /^\*REMOVED\*/) next
  sub(/ -> .*$/, "", line)
  while (match(line, /^(static|override|virtual|abstract|const|readonly|sealed|new|extern) /)) line = substr(line, RLENGTH + 1)
  p = index(line, "(")
  if (p == 0) {
    sub(/ = .*$/, "", line)
    names[line] = 1
    # A property accessor (Name.get) or an event accessor (Name.add) stands for its member.
    if (line ~ /\.(get|set|init|add|remove)$/) { sub(/\.[a-z]+$/, "", line); names[line] = 1 }
    next
  }
  name = substr(line, 1, p - 1)
  gsub(/<[^<>]*>/, "", name)
  args = substr(line, p + 1); sub(/\)$/, "", args)
  n = split_top(args, parts); sig = ""
  for (i = 1; i <= n; i++) sig = sig (i > 1 ? "," : "") api_param(parts[i])
  names[name] = 1
  methods[name "(" sig ")"] = 1
  next
}

{
  id = $0; kind = substr(id, 1, 1); symbol = substr(id, 3)
  p = index(symbol, "(")
  name = p ? substr(symbol, 1, p - 1) : symbol
  sub(/~.*$/, "", name)
  gsub(/`+[0-9]+/, "", name)
  if (name ~ /\.#ctor$/) { type = name; sub(/\.#ctor$/, "", type); short = type; sub(/^.*\./, "", short); name = type "." short }
  if (kind != "M") { if (!(name in names)) print id; next }
  args = p ? substr(symbol, p + 1) : ""; sub(/\).*$/, "", args)
  n = split_top(args, parts); sig = ""
  for (i = 1; i <= n; i++) sig = sig (i > 1 ? "," : "") doc_param(parts[i])
  # A generic method's type parameters (``0) have names in the API file: compare by name only.
  if (sig ~ /`/) { if (!(name in names)) print id; next }
  if (!((name "(" sig ")") in methods)) print id
}
