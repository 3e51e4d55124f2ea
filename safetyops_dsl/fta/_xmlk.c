/*
 * _xmlk: the element type of the Open-PSA reader (fta/xmlread.py) and a fast path that reads plain XML into it.
 *
 * Why: a 10,000-gate Open-PSA chain has 60,000 elements, and reading them through pyexpat's Python callbacks
 * (one Python call and one Python object with seven slots per element) was a third of loading the file.
 *
 * parse(data, file, cls) reads a document made only of the XML that Open-PSA files use: an optional
 * `<?xml version="1.0"?>` declaration (encoding UTF-8, US-ASCII or ISO-8859-1), elements, attributes, the five
 * predefined entities and character references, and comments, in ASCII without carriage returns. It returns
 * the root element, built exactly as xmlread's expat path builds it (same tags, attribute lists, positions,
 * children and <label> text), or None for anything else: a document type declaration (so no entity is ever
 * declared or expanded, and no external reference followed), a processing instruction, CDATA, a byte outside
 * printable ASCII, and every well-formedness error. The caller then reads the file with expat, which gives
 * the same tree or the positioned diagnostic. The fast path never reports an error itself.
 *
 * No recursion: open elements are kept on an explicit stack, so nesting depth is bounded by memory only.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <structmember.h>

/* ------------------------------------------------------------------------------------------------------ */
/* Element: tag, attributes (expat's flat list [name, value, ...]), file, line, col, children, text.      */

typedef struct {
    PyObject_HEAD
    PyObject *tag;
    PyObject *attributes;
    PyObject *file;
    PyObject *children; /* the shared empty tuple until the first child, then a list */
    PyObject *text;     /* of a <label> only */
    int line;
    int col;
} ElementObject;

static PyTypeObject ElementType;

static void Element_dealloc(ElementObject *self) {
    Py_XDECREF(self->tag);
    Py_XDECREF(self->attributes);
    Py_XDECREF(self->file);
    Py_XDECREF(self->children);
    Py_XDECREF(self->text);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A new element of type cls (ElementType or a subclass adding no fields); steals no reference. */
static ElementObject *element_new(PyTypeObject *cls, PyObject *tag, PyObject *attributes, PyObject *file,
                                  int line, int col, PyObject *empty, PyObject *blank) {
    ElementObject *el = (ElementObject *)cls->tp_alloc(cls, 0);
    if (!el) return NULL;
    Py_INCREF(tag);
    el->tag = tag;
    Py_INCREF(attributes);
    el->attributes = attributes;
    Py_INCREF(file);
    el->file = file;
    Py_INCREF(empty);
    el->children = empty;
    Py_INCREF(blank);
    el->text = blank;
    el->line = line;
    el->col = col;
    return el;
}

static int Element_init(ElementObject *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"tag", "attributes", "file", "line", "col", NULL};
    PyObject *tag, *attributes, *file;
    int line, col;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOii:Element", kwlist, &tag, &attributes, &file, &line, &col))
        return -1;
    PyObject *empty = PyTuple_New(0), *blank = PyUnicode_New(0, 0);
    if (!empty || !blank) {
        Py_XDECREF(empty);
        Py_XDECREF(blank);
        return -1;
    }
    Py_INCREF(tag);
    Py_XSETREF(self->tag, tag);
    Py_INCREF(attributes);
    Py_XSETREF(self->attributes, attributes);
    Py_INCREF(file);
    Py_XSETREF(self->file, file);
    Py_XSETREF(self->children, empty);
    Py_XSETREF(self->text, blank);
    self->line = line;
    self->col = col;
    return 0;
}

/* get(key, default=None): the value of attribute `key`. */
static PyObject *Element_get(ElementObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs < 1 || nargs > 2) {
        PyErr_Format(PyExc_TypeError, "get() takes 1 or 2 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *key = args[0], *a = self->attributes;
    if (a && PyList_Check(a)) {
        Py_ssize_t n = PyList_GET_SIZE(a);
        for (Py_ssize_t i = 0; i + 1 < n; i += 2) {
            int eq = PyObject_RichCompareBool(PyList_GET_ITEM(a, i), key, Py_EQ);
            if (eq < 0) return NULL;
            if (eq) {
                PyObject *v = PyList_GET_ITEM(a, i + 1);
                Py_INCREF(v);
                return v;
            }
        }
    }
    PyObject *d = nargs == 2 ? args[1] : Py_None;
    Py_INCREF(d);
    return d;
}

static PyMemberDef Element_members[] = {
    {"tag", T_OBJECT_EX, offsetof(ElementObject, tag), 0, "element name"},
    {"attributes", T_OBJECT_EX, offsetof(ElementObject, attributes), 0, "[name, value, ...] as written"},
    {"file", T_OBJECT_EX, offsetof(ElementObject, file), 0, "path of the file"},
    {"children", T_OBJECT_EX, offsetof(ElementObject, children), 0, "child elements"},
    {"text", T_OBJECT_EX, offsetof(ElementObject, text), 0, "text of a <label>, stripped"},
    {"line", T_INT, offsetof(ElementObject, line), 0, "line of the start tag (1-based)"},
    {"col", T_INT, offsetof(ElementObject, col), 0, "column of the start tag's '<' (1-based)"},
    {NULL, 0, 0, 0, NULL},
};

static PyMethodDef Element_methods[] = {
    {"get", (PyCFunction)(void (*)(void))Element_get, METH_FASTCALL,
     "get(key, default=None) -> the value of attribute key, or default."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ElementType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "safetyops_dsl.fta._xmlk.ElementBase",
    .tp_basicsize = sizeof(ElementObject),
    .tp_dealloc = (destructor)Element_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "ElementBase(tag, attributes, file, line, col): one XML element (see fta/xmlread.py).",
    .tp_methods = Element_methods,
    .tp_members = Element_members,
    .tp_init = (initproc)Element_init,
    .tp_new = PyType_GenericNew,
};

/* ------------------------------------------------------------------------------------------------------ */
/* The fast path                                                                                          */

typedef struct {
    ElementObject *el;
    const char *name; /* the tag as written, for the end tag */
    Py_ssize_t len;
} Open;

typedef struct {
    const char *p, *end;
    const char *counted; /* newlines before this point are counted in line */
    const char *line_start;
    long line;
    PyTypeObject *cls;
    PyObject *file, *names, *empty, *blank;
    PyObject *recent[64]; /* names by a hash of their bytes, borrowed from `names`: see name_str */
    Open *stack;
    size_t depth, cap;
    int collecting; /* inside a <label>: text goes to the innermost open element (as xmlread's expat path) */
    char *buf;      /* scratch for decoded attribute values and text */
    size_t bufcap;
} Reader;

enum { OK = 0, NOT_PLAIN = 1, FAILED = -1 }; /* FAILED: a Python exception is set */

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }
static int name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
static int name_char(char c) { return name_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-'; }

static void skip_space(Reader *r) {
    while (r->p < r->end && is_space(*r->p)) r->p++;
}

static int starts(const Reader *r, const char *s) {
    size_t n = strlen(s);
    return (size_t)(r->end - r->p) >= n && memcmp(r->p, s, n) == 0;
}

/* The name at r->p (advanced past it); 0 if there is none. */
static Py_ssize_t scan_name(Reader *r) {
    const char *s = r->p;
    if (s >= r->end || !name_start(*s)) return 0;
    while (r->p < r->end && name_char(*r->p)) r->p++;
    return r->p - s;
}

/* The interned str of a name: one object per distinct tag or attribute name, as pyexpat interns them. */
static PyObject *name_str(Reader *r, const char *s, Py_ssize_t n) {
    /* A file has a handful of distinct names, each written thousands of times: a name found in `recent`
     * costs a comparison, where decoding it and looking it up in `names` cost most of reading an element. */
    size_t h = (size_t)n * 31u;
    for (Py_ssize_t i = 0; i < n; i++) h = h * 33u + (unsigned char)s[i];
    PyObject **slot = &r->recent[(h ^ (h >> 7)) & 63u];
    if (*slot && PyUnicode_GET_LENGTH(*slot) == n && memcmp(PyUnicode_1BYTE_DATA(*slot), s, (size_t)n) == 0) {
        Py_INCREF(*slot);
        return *slot;
    }
    PyObject *k = PyUnicode_DecodeASCII(s, n, NULL);
    if (!k) return NULL;
    PyObject *have = PyDict_GetItemWithError(r->names, k);
    if (have) {
        Py_DECREF(k);
        Py_INCREF(have);
        *slot = have;
        return have;
    }
    if (PyErr_Occurred() || PyDict_SetItem(r->names, k, k) < 0) {
        Py_DECREF(k);
        return NULL;
    }
    *slot = k;
    return k;
}

static int buf_put(Reader *r, size_t at, char c) {
    if (at >= r->bufcap) {
        size_t ncap = r->bufcap ? r->bufcap * 2 : 256;
        char *nb = (char *)PyMem_Realloc(r->buf, ncap);
        if (!nb) {
            PyErr_NoMemory();
            return FAILED;
        }
        r->buf = nb;
        r->bufcap = ncap;
    }
    r->buf[at] = c;
    return OK;
}

/* A reference at r->p ('&' ... ';'): the character it stands for in *c. Only printable ASCII, tab and
 * newline (the rest, including a carriage return, takes expat's path). */
static int scan_reference(Reader *r, char *c) {
    const char *s = r->p + 1;
    const char *semi = memchr(s, ';', (size_t)(r->end - s));
    if (!semi) return NOT_PLAIN;
    size_t n = (size_t)(semi - s);
    long v = -1;
    if (n >= 2 && s[0] == '#') {
        int hex = s[1] == 'x';
        size_t i = hex ? 2 : 1;
        if (i >= n || n - i > 6) return NOT_PLAIN;
        v = 0;
        for (; i < n; i++) {
            char d = s[i];
            int x;
            if (d >= '0' && d <= '9')
                x = d - '0';
            else if (hex && d >= 'a' && d <= 'f')
                x = d - 'a' + 10;
            else if (hex && d >= 'A' && d <= 'F')
                x = d - 'A' + 10;
            else
                return NOT_PLAIN;
            v = v * (hex ? 16 : 10) + x;
        }
        if (!(v == '\t' || v == '\n' || (v >= 0x20 && v < 0x7F))) return NOT_PLAIN;
    } else if (n == 2 && memcmp(s, "lt", 2) == 0) {
        v = '<';
    } else if (n == 2 && memcmp(s, "gt", 2) == 0) {
        v = '>';
    } else if (n == 3 && memcmp(s, "amp", 3) == 0) {
        v = '&';
    } else if (n == 4 && memcmp(s, "quot", 4) == 0) {
        v = '"';
    } else if (n == 4 && memcmp(s, "apos", 4) == 0) {
        v = '\'';
    } else {
        return NOT_PLAIN; /* an undefined entity: an error for expat */
    }
    *c = (char)v;
    r->p = semi + 1;
    return OK;
}

/* A quoted attribute value at r->p, decoded and normalised as expat does for an attribute without a DTD
 * (a literal tab or newline becomes a space; a character reference stays what it says). */
static PyObject *scan_value(Reader *r, int *status) {
    *status = NOT_PLAIN;
    if (r->p >= r->end || (*r->p != '"' && *r->p != '\'')) return NULL;
    char q = *r->p++;
    const char *s = r->p;
    while (r->p < r->end && *r->p != q && *r->p != '&' && *r->p != '<' && *r->p != '\t' && *r->p != '\n') r->p++;
    if (r->p < r->end && *r->p == q) { /* the common case: nothing to decode */
        PyObject *v = PyUnicode_DecodeASCII(s, r->p - s, NULL);
        r->p++;
        *status = v ? OK : FAILED;
        return v;
    }
    size_t n = 0;
    r->p = s;
    for (;;) {
        if (r->p >= r->end || *r->p == '<') return NULL;
        char c = *r->p;
        if (c == q) break;
        if (c == '&') {
            int st = scan_reference(r, &c);
            if (st != OK) return NULL;
        } else {
            if (c == '\t' || c == '\n') c = ' ';
            r->p++;
        }
        if (buf_put(r, n++, c) < 0) {
            *status = FAILED;
            return NULL;
        }
    }
    r->p++;
    PyObject *v = PyUnicode_DecodeASCII(r->buf ? r->buf : "", (Py_ssize_t)n, NULL);
    *status = v ? OK : FAILED;
    return v;
}

/* A comment at r->p ("<!--"), skipped. "--" may only end it. */
static int skip_comment(Reader *r) {
    const char *s = r->p + 4;
    for (;;) {
        const char *d = s < r->end ? memchr(s, '-', (size_t)(r->end - s)) : NULL;
        if (!d || d + 1 >= r->end) return NOT_PLAIN;
        if (d[1] == '-') {
            if (d + 2 < r->end && d[2] == '>') {
                r->p = d + 3;
                return OK;
            }
            return NOT_PLAIN;
        }
        s = d + 1;
    }
}

/* The XML declaration at r->p ("<?xml" then a space): version 1.0, and an encoding that reads ASCII as
 * ASCII. */
static int skip_declaration(Reader *r) {
    r->p += 5;
    static const char *const names[] = {"version", "encoding", "standalone"};
    int next = 0;
    for (;;) {
        const char *before = r->p;
        skip_space(r);
        if (starts(r, "?>")) {
            r->p += 2;
            return next > 0 ? OK : NOT_PLAIN;
        }
        if (r->p == before) return NOT_PLAIN;
        const char *s = r->p;
        Py_ssize_t n = scan_name(r);
        int which = -1;
        for (int i = next; i < 3 && which < 0; i++)
            if ((size_t)n == strlen(names[i]) && memcmp(s, names[i], (size_t)n) == 0) which = i;
        if (which < 0 || (next == 0 && which != 0)) return NOT_PLAIN;
        next = which + 1;
        skip_space(r);
        if (r->p >= r->end || *r->p != '=') return NOT_PLAIN;
        r->p++;
        skip_space(r);
        if (r->p >= r->end || (*r->p != '"' && *r->p != '\'')) return NOT_PLAIN;
        char q = *r->p++;
        const char *v = r->p;
        while (r->p < r->end && *r->p != q) r->p++;
        if (r->p >= r->end) return NOT_PLAIN;
        size_t len = (size_t)(r->p - v);
        r->p++;
        if (which == 0 && !(len == 3 && memcmp(v, "1.0", 3) == 0)) return NOT_PLAIN;
        if (which == 1) {
            char low[16];
            if (len >= sizeof low) return NOT_PLAIN;
            for (size_t i = 0; i < len; i++) low[i] = (char)((v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i]);
            low[len] = '\0';
            if (strcmp(low, "utf-8") != 0 && strcmp(low, "us-ascii") != 0 && strcmp(low, "iso-8859-1") != 0)
                return NOT_PLAIN;
        }
        if (which == 2 && !((len == 3 && memcmp(v, "yes", 3) == 0) || (len == 2 && memcmp(v, "no", 2) == 0)))
            return NOT_PLAIN;
    }
}

/* Line and 1-based column of position at (after everything counted so far). */
static void position(Reader *r, const char *at, int *line, int *col) {
    const char *s = r->counted;
    while (s < at) {
        const char *nl = memchr(s, '\n', (size_t)(at - s));
        if (!nl) break;
        r->line++;
        r->line_start = nl + 1;
        s = nl + 1;
    }
    r->counted = at;
    *line = r->line > INT_MAX ? INT_MAX : (int)r->line;
    long c = (long)(at - r->line_start) + 1;
    *col = c > INT_MAX ? INT_MAX : (int)c;
}

/* Text of the innermost open element += the bytes [s, s + n) already decoded in r->buf or the source. */
static int append_text(Reader *r, const char *s, Py_ssize_t n) {
    if (n == 0 || r->depth == 0) return OK;
    ElementObject *el = r->stack[r->depth - 1].el;
    PyObject *piece = PyUnicode_DecodeASCII(s, n, NULL);
    if (!piece) return FAILED;
    PyUnicode_Append(&el->text, piece);
    Py_DECREF(piece);
    return el->text ? OK : FAILED;
}

/* Character data up to the next '<' (or the end). Only whitespace outside the root; no "]]>". */
static int scan_text(Reader *r) {
    size_t n = 0;
    const char *s = r->p;
    int plain = 1;
    while (r->p < r->end && *r->p != '<') {
        char c = *r->p;
        if (c == '&') {
            const char *amp = r->p;
            if (r->depth == 0) return NOT_PLAIN; /* only space may surround the root */
            int st = scan_reference(r, &c);
            if (st != OK) return st;
            if (plain) { /* from here on, text is copied decoded */
                for (const char *t = s; t < amp; t++)
                    if (buf_put(r, n++, *t) < 0) return FAILED;
                plain = 0;
            }
        } else {
            if (c == ']' && r->end - r->p >= 3 && r->p[1] == ']' && r->p[2] == '>') return NOT_PLAIN;
            r->p++;
        }
        if (r->depth == 0 && !is_space(c)) return NOT_PLAIN;
        if (!plain && buf_put(r, n++, c) < 0) return FAILED;
    }
    if (!r->collecting) return OK;
    return plain ? append_text(r, s, r->p - s) : append_text(r, r->buf, (Py_ssize_t)n);
}

static int push(Reader *r, ElementObject *el, const char *name, Py_ssize_t len) {
    if (r->depth == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 64;
        Open *ns = (Open *)PyMem_Realloc(r->stack, ncap * sizeof(Open));
        if (!ns) {
            PyErr_NoMemory();
            return FAILED;
        }
        r->stack = ns;
        r->cap = ncap;
    }
    r->stack[r->depth].el = el;
    r->stack[r->depth].name = name;
    r->stack[r->depth].len = len;
    r->depth++;
    return OK;
}

static int is_label(const char *s, Py_ssize_t n) { return n == 5 && memcmp(s, "label", 5) == 0; }

/* The end of the innermost open element (its end tag, or "/>"). */
static int close_element(Reader *r) {
    Open *o = &r->stack[--r->depth];
    if (is_label(o->name, o->len)) {
        r->collecting = 0;
        PyObject *stripped = PyObject_CallMethod(o->el->text, "strip", NULL);
        if (!stripped) return FAILED;
        Py_SETREF(o->el->text, stripped);
    }
    return OK;
}

/* A start tag at r->p ('<' then a name character). *root receives the first element made. */
static int start_tag(Reader *r, ElementObject **root) {
    int line, col;
    position(r, r->p, &line, &col);
    r->p++;
    const char *tag = r->p;
    Py_ssize_t taglen = scan_name(r);
    PyObject *attrs = PyList_New(0);
    if (!attrs) return FAILED;
    int status = NOT_PLAIN;
    for (;;) {
        const char *before = r->p;
        skip_space(r);
        if (r->p >= r->end) goto done;
        if (*r->p == '>' || *r->p == '/') break;
        if (r->p == before) goto done; /* attributes are separated by space */
        const char *an = r->p;
        Py_ssize_t alen = scan_name(r);
        if (!alen) goto done;
        skip_space(r);
        if (r->p >= r->end || *r->p != '=') goto done;
        r->p++;
        skip_space(r);
        PyObject *name = name_str(r, an, alen);
        if (!name) {
            status = FAILED;
            goto done;
        }
        Py_ssize_t n = PyList_GET_SIZE(attrs);
        for (Py_ssize_t i = 0; i < n; i += 2) {
            if (PyList_GET_ITEM(attrs, i) == name) { /* interned: a duplicate is an error for expat */
                Py_DECREF(name);
                goto done;
            }
        }
        int st;
        PyObject *value = scan_value(r, &st);
        if (!value) {
            Py_DECREF(name);
            status = st;
            goto done;
        }
        int bad = PyList_Append(attrs, name) < 0 || PyList_Append(attrs, value) < 0;
        Py_DECREF(name);
        Py_DECREF(value);
        if (bad) {
            status = FAILED;
            goto done;
        }
    }
    int empty = *r->p == '/';
    if (empty) {
        r->p++;
        if (r->p >= r->end || *r->p != '>') goto done;
    }
    r->p++;
    if (r->depth == 0 && *root) goto done; /* a second root element */
    PyObject *tagname = name_str(r, tag, taglen);
    if (!tagname) {
        status = FAILED;
        goto done;
    }
    ElementObject *el = element_new(r->cls, tagname, attrs, r->file, line, col, r->empty, r->blank);
    Py_DECREF(tagname);
    if (!el) {
        status = FAILED;
        goto done;
    }
    if (r->depth == 0) {
        *root = el; /* the reference the caller returns */
    } else {
        ElementObject *parent = r->stack[r->depth - 1].el;
        if (PyList_Check(parent->children)) {
            int bad = PyList_Append(parent->children, (PyObject *)el) < 0;
            Py_DECREF(el);
            if (bad) {
                status = FAILED;
                goto done;
            }
        } else {
            PyObject *kids = PyList_New(1);
            if (!kids) {
                Py_DECREF(el);
                status = FAILED;
                goto done;
            }
            PyList_SET_ITEM(kids, 0, (PyObject *)el); /* steals el */
            Py_SETREF(parent->children, kids);
        }
    }
    if (push(r, el, tag, taglen) < 0) {
        status = FAILED;
        goto done;
    }
    if (is_label(tag, taglen)) r->collecting = 1;
    status = empty ? close_element(r) : OK;
done:
    Py_DECREF(attrs);
    return status;
}

static int end_tag(Reader *r) {
    r->p += 2;
    const char *s = r->p;
    Py_ssize_t n = scan_name(r);
    skip_space(r);
    if (!n || r->p >= r->end || *r->p != '>' || r->depth == 0) return NOT_PLAIN;
    const Open *o = &r->stack[r->depth - 1];
    if (o->len != n || memcmp(o->name, s, (size_t)n) != 0) return NOT_PLAIN;
    r->p++;
    return close_element(r);
}

static int read_document(Reader *r, ElementObject **root) {
    /* Only printable ASCII, tab and newline: the rest (other encodings, carriage returns, control
     * characters) is left to expat. */
    for (const char *s = r->p; s < r->end; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x7F || (c < 0x20 && c != '\t' && c != '\n')) return NOT_PLAIN;
    }
    if (starts(r, "<?xml") && r->end - r->p > 5 && is_space(r->p[5])) {
        int st = skip_declaration(r);
        if (st != OK) return st;
    }
    int seen_root = 0;
    while (r->p < r->end) {
        int st;
        if (*r->p != '<') {
            st = scan_text(r);
        } else if (starts(r, "<!--")) {
            st = skip_comment(r);
        } else if (starts(r, "</")) {
            st = end_tag(r);
        } else if (r->end - r->p > 1 && name_start(r->p[1])) {
            st = start_tag(r, root);
            seen_root = 1;
        } else {
            return NOT_PLAIN; /* <!DOCTYPE, <![CDATA[, <?pi, or an error */
        }
        if (st != OK) return st;
    }
    return seen_root && r->depth == 0 && *root ? OK : NOT_PLAIN;
}

static PyObject *py_parse(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "parse() takes 3 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *file = args[1], *cls = args[2];
    if (!PyUnicode_Check(file)) {
        PyErr_SetString(PyExc_TypeError, "parse(): file must be a str");
        return NULL;
    }
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, &ElementType) ||
        ((PyTypeObject *)cls)->tp_basicsize != ElementType.tp_basicsize) {
        PyErr_SetString(PyExc_TypeError, "parse(): cls must be ElementBase or a subclass without fields");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) return NULL;
    Reader r;
    memset(&r, 0, sizeof r);
    r.p = r.counted = r.line_start = (const char *)view.buf;
    r.end = r.p + view.len;
    r.line = 1;
    r.cls = (PyTypeObject *)cls;
    r.file = file;
    r.names = PyDict_New();
    r.empty = PyTuple_New(0);
    r.blank = PyUnicode_New(0, 0);
    ElementObject *root = NULL;
    int st = (r.names && r.empty && r.blank) ? read_document(&r, &root) : FAILED;
    Py_XDECREF(r.names);
    Py_XDECREF(r.empty);
    Py_XDECREF(r.blank);
    PyMem_Free(r.stack);
    PyMem_Free(r.buf);
    PyBuffer_Release(&view);
    if (st == OK) return (PyObject *)root;
    Py_XDECREF(root);
    if (st == FAILED) return NULL;
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------------------------------------------ */
/* plain_model: the Open-PSA reader's fast path over a parsed tree                                          */
/*
 * Why: turning the elements of a 10,000-gate chain into gates and events one Python step at a time was most
 * of `sops fta`'s loading (fta/openpsa.py). This reads the plain model (from one file or several, each an
 * <opsa-mef>), which every Aralia tree is: public
 * gates whose formula is a connective (and, or, atleast, xor, not, nand, nor, null; nested connectives become
 * gates "<gate>-<i>" as in openpsa._Builder) over <gate> and <basic-event> references, or one reference alone
 * (a pass-through gate), and basic events whose probability is a plain <float>/<int> number, inside
 * <define-fault-tree>, <define-component> and <model-data> containers without a role. It returns what
 * openpsa._Builder makes of such a model (the gates, basic events and origins, made here without running
 * their __init__: the records are slotted dataclasses, see openpsa._layout), or None for anything else,
 * however small: a role, a dot in a name, a house event, a parameter, a CCF group, an event-tree element, an
 * expression, iff/imply/cardinality, a <constant>, an <event> reference, a duplicate, undefined or clashing
 * name, a wrong number of arguments, a cycle, no gate, more than 100 nested formulas. Python's reader then
 * reads the model with every diagnostic, so this never decides what an error says.
 * tests/unit/fta/test_openpsa_fast.py compares both readers.
 */

typedef struct {
    PyObject *name;  /* owned */
    ElementObject *el;
    PyObject *kind;  /* borrowed from the kinds dict */
    PyObject *label; /* owned */
    long k;          /* atleast's min, or -1 */
    Py_ssize_t first, n; /* its inputs: refs[first .. first + n) */
} PGate;

typedef struct {
    PyObject *name;
    ElementObject *el;
    PyObject *label; /* owned */
    double p;
} PBasic;

typedef struct {
    PyTypeObject *cls;
    Py_ssize_t nfields;
    Py_ssize_t offsets[16];
    PyObject *defaults; /* tuple: the value of every field not given */
} Layout;

typedef struct {
    PGate *gates;
    Py_ssize_t ngates, capgates;
    PBasic *basics;
    Py_ssize_t nbasics, capbasics;
    PyObject **refnames; /* borrowed */
    char *refbasic;      /* the reference is a <basic-event> */
    Py_ssize_t *refs;    /* resolved: 2i for gate i, 2j + 1 for basic event j */
    Py_ssize_t nrefs, caprefs, caprb, caprs;
    PyObject *kinds, *space;
} Plain;

static int is_tag(PyObject *o, const char *s) { return PyUnicode_Check(o) && PyUnicode_CompareWithASCIIString(o, s) == 0; }

/* The value of attribute `key`, borrowed (as Element.get); NULL if absent. */
static PyObject *attr(ElementObject *e, const char *key) {
    PyObject *a = e->attributes;
    if (!PyList_Check(a)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(a);
    for (Py_ssize_t i = 0; i + 1 < n; i += 2)
        if (is_tag(PyList_GET_ITEM(a, i), key)) return PyList_GET_ITEM(a, i + 1);
    return NULL;
}

/* The children of e as an array; -1 if they are not a list or tuple of elements. */
static Py_ssize_t kids(ElementObject *e, PyObject ***items) {
    PyObject *c = e->children;
    if (!PyList_Check(c) && !PyTuple_Check(c)) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(c);
    *items = PySequence_Fast_ITEMS(c);
    for (Py_ssize_t i = 0; i < n; i++)
        if (!PyObject_TypeCheck((*items)[i], &ElementType) || !PyList_Check(((ElementObject *)(*items)[i])->attributes) ||
            !PyUnicode_Check(((ElementObject *)(*items)[i])->tag))
            return -1;
    return n;
}

static int is_meta(PyObject *tag) { return is_tag(tag, "label") || is_tag(tag, "attributes"); }

/* A defined name: present, not empty, without a dot (then no private or qualified look-up can apply). */
static PyObject *plain_name(ElementObject *e) {
    if (attr(e, "role")) return NULL;
    PyObject *name = attr(e, "name");
    if (!name || !PyUnicode_Check(name) || PyUnicode_GET_LENGTH(name) == 0) return NULL;
    if (PyUnicode_FindChar(name, '.', 0, PyUnicode_GET_LENGTH(name), 1) != -1) return NULL;
    return name;
}

/* openpsa._label: the first <label>'s text with its whitespace runs made one space; a new reference. */
static PyObject *label_of(Plain *P, PyObject **items, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        ElementObject *c = (ElementObject *)items[i];
        if (is_tag(c->tag, "label")) {
            PyObject *parts = PyUnicode_Split(c->text, NULL, -1);
            if (!parts) return NULL;
            PyObject *out = PyUnicode_Join(P->space, parts);
            Py_DECREF(parts);
            return out;
        }
    }
    return PyUnicode_New(0, 0);
}

/* The one non-meta child of a definition; NULL if there is not exactly one. */
static ElementObject *body_of(PyObject **items, Py_ssize_t n) {
    ElementObject *body = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        ElementObject *c = (ElementObject *)items[i];
        if (is_meta(c->tag)) continue;
        if (body) return NULL;
        body = c;
    }
    return body;
}

static int grow(void **p, Py_ssize_t *cap, Py_ssize_t need, size_t size) {
    if (need <= *cap) return 0;
    Py_ssize_t c = *cap ? *cap * 2 : 64;
    while (c < need) c *= 2;
    void *q = PyMem_Realloc(*p, (size_t)c * size);
    if (!q) {
        PyErr_NoMemory();
        return -1;
    }
    *p = q;
    *cap = c;
    return 0;
}

/* Appends one gate; takes the reference to `name` and `label`, also when it fails. */
static int add_gate(Plain *P, PyObject *name, ElementObject *at, PyObject *kind, long k, PyObject *label,
                    Py_ssize_t first, Py_ssize_t n) {
    if (grow((void **)&P->gates, &P->capgates, P->ngates + 1, sizeof(PGate)) < 0) {
        Py_DECREF(name);
        Py_DECREF(label);
        return FAILED;
    }
    PGate *g = &P->gates[P->ngates++];
    g->name = name;
    g->el = at;
    g->kind = kind;
    g->k = k;
    g->label = label;
    g->first = first;
    g->n = n;
    return OK;
}

static int add_ref(Plain *P, PyObject *name, int basic) {
    if (grow((void **)&P->refnames, &P->caprefs, P->nrefs + 1, sizeof(PyObject *)) < 0 ||
        grow((void **)&P->refbasic, &P->caprb, P->nrefs + 1, 1) < 0 ||
        grow((void **)&P->refs, &P->caprs, P->nrefs + 1, sizeof(Py_ssize_t)) < 0)
        return FAILED;
    P->refnames[P->nrefs] = name;
    P->refbasic[P->nrefs] = (char)basic;
    P->nrefs++;
    return OK;
}

/* A <gate> or <basic-event> reference's name (borrowed), or NULL: not a plain reference. */
static PyObject *plain_ref(ElementObject *c, int *basic) {
    *basic = is_tag(c->tag, "basic-event");
    if (!*basic && !is_tag(c->tag, "gate")) return NULL;
    PyObject *ref = attr(c, "name");
    return ref && PyUnicode_Check(ref) && PyUnicode_GET_LENGTH(ref) > 0 ? ref : NULL;
}

/* Gate `name` (a new reference, taken) from connective `f`, as openpsa._Builder._formula: a nested
 * connective becomes gate "<name>-<i>" (i: its place among the arguments), its origin the nested element. */
static int plain_formula(Plain *P, PyObject *name, ElementObject *f, ElementObject *at, PyObject *label, int depth) {
    PyObject **args, *kind = PyDict_GetItemWithError(P->kinds, f->tag);
    Py_ssize_t na = kids(f, &args);
    if (!kind || na < 0 || depth > 100) {
        Py_DECREF(name);
        Py_DECREF(label);
        return PyErr_Occurred() ? FAILED : NOT_PLAIN;
    }
    /* The arguments, as names (a nested gate's name owned by its PGate) and kinds, before this gate's refs
     * are appended: a nested gate appends its own first, and each gate's refs are contiguous. */
    PyObject **names = PyMem_Malloc(sizeof(PyObject *) * (size_t)(na + 1));
    char *basics = PyMem_Malloc((size_t)(na + 1));
    Py_ssize_t count = 0;
    int st = names && basics ? OK : FAILED;
    if (st == FAILED) PyErr_NoMemory();
    for (Py_ssize_t i = 0; st == OK && i < na; i++) {
        ElementObject *c = (ElementObject *)args[i];
        if (is_meta(c->tag)) continue;
        count++;
        int basic;
        PyObject *ref = plain_ref(c, &basic);
        if (ref) {
            names[count - 1] = ref;
            basics[count - 1] = (char)basic;
            continue;
        }
        PyObject *nested = PyUnicode_FromFormat("%U-%zd", name, count), *blank = PyUnicode_New(0, 0);
        if (!nested || !blank) {
            Py_XDECREF(nested);
            Py_XDECREF(blank);
            st = FAILED;
            break;
        }
        names[count - 1] = nested; /* borrowed from the PGate once added */
        basics[count - 1] = 0;
        st = plain_formula(P, nested, c, c, blank, depth + 1);
    }
    Py_ssize_t first = P->nrefs;
    for (Py_ssize_t i = 0; st == OK && i < count; i++) st = add_ref(P, names[i], basics[i]);
    PyMem_Free(names);
    PyMem_Free(basics);
    long k = -1;
    if (st == OK && (count == 0 || ((is_tag(f->tag, "not") || is_tag(f->tag, "null")) && count != 1)))
        st = NOT_PLAIN;
    if (st == OK && is_tag(f->tag, "atleast")) {
        /* only what int() reads the same way: 1 to 9 ASCII digits */
        PyObject *raw = attr(f, "min");
        Py_ssize_t len = raw && PyUnicode_Check(raw) && PyUnicode_IS_ASCII(raw) ? PyUnicode_GET_LENGTH(raw) : 0;
        const char *s = len ? (const char *)PyUnicode_1BYTE_DATA(raw) : "";
        int digits = len >= 1 && len <= 9;
        k = 0;
        for (Py_ssize_t i = 0; digits && i < len; i++) {
            digits = s[i] >= '0' && s[i] <= '9';
            k = k * 10 + (s[i] - '0');
        }
        if (!digits || k < 1 || k > count) st = NOT_PLAIN;
    }
    if (st != OK) {
        Py_DECREF(name);
        Py_DECREF(label);
        return st;
    }
    return add_gate(P, name, at, kind, k, label, first, count);
}

static int plain_gate(Plain *P, ElementObject *d) {
    PyObject *name = plain_name(d), **items;
    if (!name) return NOT_PLAIN;
    Py_ssize_t n = kids(d, &items);
    if (n < 0) return NOT_PLAIN;
    ElementObject *f = body_of(items, n);
    if (!f) return NOT_PLAIN;
    PyObject *label = label_of(P, items, n);
    if (!label) return FAILED;
    Py_INCREF(name);
    int basic;
    PyObject *ref = plain_ref(f, &basic);
    if (!ref) return plain_formula(P, name, f, d, label, 0);
    /* A reference alone: a pass-through gate (openpsa._Builder._gate) */
    Py_ssize_t first = P->nrefs;
    if (add_ref(P, ref, basic) < 0) {
        Py_DECREF(name);
        Py_DECREF(label);
        return FAILED;
    }
    PyObject *null = PyDict_GetItemString(P->kinds, "null");
    if (!null) {
        Py_DECREF(name);
        Py_DECREF(label);
        return NOT_PLAIN;
    }
    return add_gate(P, name, d, null, -1, label, first, 1);
}

static int plain_basic(Plain *P, ElementObject *d) {
    PyObject *name = plain_name(d), **items, **none;
    if (!name) return NOT_PLAIN;
    Py_ssize_t n = kids(d, &items);
    if (n < 0) return NOT_PLAIN;
    ElementObject *f = body_of(items, n);
    if (!f || !(is_tag(f->tag, "float") || is_tag(f->tag, "int")) || kids(f, &none) != 0) return NOT_PLAIN;
    PyObject *raw = attr(f, "value");
    if (!raw || !PyUnicode_Check(raw)) return NOT_PLAIN;
    PyObject *num = PyFloat_FromString(raw); /* what float(raw) does */
    if (!num) {
        if (!PyErr_ExceptionMatches(PyExc_ValueError)) return FAILED;
        PyErr_Clear();
        return NOT_PLAIN;
    }
    double p = PyFloat_AS_DOUBLE(num);
    Py_DECREF(num);
    if (!(p >= 0.0 && p <= 1.0)) return NOT_PLAIN;
    if (grow((void **)&P->basics, &P->capbasics, P->nbasics + 1, sizeof(PBasic)) < 0) return FAILED;
    PBasic *b = &P->basics[P->nbasics];
    b->label = label_of(P, items, n);
    if (!b->label) return FAILED;
    b->name = name;
    b->el = d;
    b->p = p;
    P->nbasics++;
    return OK;
}

/* The definitions under the root, through containers (an explicit stack: no recursion). */
static int plain_collect(Plain *P, ElementObject *root) {
    enum { MAXDEPTH = 64 };
    ElementObject *stack[MAXDEPTH];
    int depth = 0;
    stack[depth++] = root;
    while (depth) {
        ElementObject *e = stack[--depth];
        PyObject **items;
        Py_ssize_t n = kids(e, &items);
        if (n < 0) return NOT_PLAIN;
        for (Py_ssize_t i = 0; i < n; i++) {
            ElementObject *c = (ElementObject *)items[i];
            PyObject *tag = c->tag;
            int st = OK;
            if (is_tag(tag, "define-gate")) {
                st = plain_gate(P, c);
            } else if (is_tag(tag, "define-basic-event")) {
                st = plain_basic(P, c);
            } else if (is_tag(tag, "define-fault-tree") || is_tag(tag, "define-component") ||
                       is_tag(tag, "model-data")) {
                if (attr(c, "role") || depth == MAXDEPTH) return NOT_PLAIN;
                stack[depth++] = c;
            } else if (!is_meta(tag)) {
                return NOT_PLAIN;
            }
            if (st != OK) return st;
        }
    }
    return OK;
}

static int layout_of(Layout *L, PyObject *spec) {
    /* spec: (cls, field names in order, defaults of every field) */
    if (!PyTuple_Check(spec) || PyTuple_GET_SIZE(spec) != 3 || !PyType_Check(PyTuple_GET_ITEM(spec, 0)) ||
        !PyTuple_Check(PyTuple_GET_ITEM(spec, 1)) || !PyTuple_Check(PyTuple_GET_ITEM(spec, 2))) {
        PyErr_SetString(PyExc_TypeError, "plain_model(): a record layout is (cls, fields, defaults)");
        return -1;
    }
    PyTypeObject *cls = (PyTypeObject *)PyTuple_GET_ITEM(spec, 0);
    PyObject *fields = PyTuple_GET_ITEM(spec, 1);
    L->cls = cls;
    L->nfields = PyTuple_GET_SIZE(fields);
    L->defaults = PyTuple_GET_ITEM(spec, 2);
    if (L->nfields > 16 || PyTuple_GET_SIZE(L->defaults) != L->nfields || cls->tp_new != PyBaseObject_Type.tp_new) {
        PyErr_SetString(PyExc_TypeError, "plain_model(): unsupported record class");
        return -1;
    }
    for (Py_ssize_t i = 0; i < L->nfields; i++) {
        PyObject *d = PyDict_GetItemWithError(cls->tp_dict, PyTuple_GET_ITEM(fields, i));
        if (!d || !Py_IS_TYPE(d, &PyMemberDescr_Type) ||
            ((PyMemberDescrObject *)d)->d_member->type != T_OBJECT_EX) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "plain_model(): a field is not a slot");
            return -1;
        }
        L->offsets[i] = ((PyMemberDescrObject *)d)->d_member->offset;
    }
    return 0;
}

/* A record with its first n fields from values (borrowed) and the rest their defaults; __init__ is not run. */
static PyObject *record(const Layout *L, PyObject *const *values, Py_ssize_t n) {
    PyObject *o = L->cls->tp_alloc(L->cls, 0);
    if (!o) return NULL;
    for (Py_ssize_t i = 0; i < L->nfields; i++) {
        PyObject *v = i < n ? values[i] : PyTuple_GET_ITEM(L->defaults, i);
        Py_INCREF(v);
        *(PyObject **)((char *)o + L->offsets[i]) = v;
    }
    return o;
}

static PyObject *origin_of(const Layout *L, ElementObject *el, PyObject *what) {
    PyObject *line = PyLong_FromLong(el->line), *col = PyLong_FromLong(el->col), *o = NULL;
    if (line && col) {
        PyObject *v[4] = {el->file, line, col, what};
        o = record(L, v, 4);
    }
    Py_XDECREF(line);
    Py_XDECREF(col);
    return o;
}

static int cmp_ssize(const void *a, const void *b) {
    Py_ssize_t x = *(const Py_ssize_t *)a, y = *(const Py_ssize_t *)b;
    return (x > y) - (x < y);
}

/* rank[i]: the place of names[i] in sorted order (str order, as sorted()); -1 on error. */
static int ranks(PyObject *const *names, Py_ssize_t n, PyObject *index, Py_ssize_t *rank, Py_ssize_t *order,
                 int odd) {
    PyObject *list = PyList_New(n);
    if (!list) return -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_INCREF(names[i]);
        PyList_SET_ITEM(list, i, names[i]);
    }
    int st = PyList_Sort(list);
    for (Py_ssize_t r = 0; st == 0 && r < n; r++) {
        PyObject *code = PyDict_GetItemWithError(index, PyList_GET_ITEM(list, r));
        if (!code) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "plain_model(): lost a name");
            st = -1;
            break;
        }
        Py_ssize_t i = PyLong_AsSsize_t(code);
        if ((i & 1) != odd) {
            PyErr_SetString(PyExc_RuntimeError, "plain_model(): lost a name");
            st = -1;
            break;
        }
        rank[i >> 1] = r;
        order[r] = i >> 1;
    }
    Py_DECREF(list);
    return st;
}

/* The model once its definitions are collected: names, references, cycles, then the trees. */
static PyObject *plain_trees(Plain *P, const Layout *LG, const Layout *LB, const Layout *LO, PyObject *what_gate,
                             PyObject *what_basic) {
    Py_ssize_t G = P->ngates, B = P->nbasics, R = P->nrefs;
    PyObject *index = NULL, *result = NULL, **gobjs = NULL, **bobjs = NULL, **names = NULL;
    Py_ssize_t *grank = NULL, *gorder = NULL, *brank = NULL, *border = NULL, *stack = NULL, *reach = NULL, *breach = NULL;
    char *mark = NULL;
    int st = NOT_PLAIN;
    if (G == 0) goto done;
    index = PyDict_New();
    if (!index) goto fail;
    for (Py_ssize_t i = 0; i < G + B; i++) {
        PyObject *name = i < G ? P->gates[i].name : P->basics[i - G].name;
        int has = PyDict_Contains(index, name);
        if (has < 0) goto fail;
        if (has) goto done; /* defined twice */
        PyObject *code = PyLong_FromSsize_t(i < G ? 2 * i : 2 * (i - G) + 1);
        if (!code || PyDict_SetItem(index, name, code) < 0) {
            Py_XDECREF(code);
            goto fail;
        }
        Py_DECREF(code);
    }
    for (Py_ssize_t r = 0; r < R; r++) {
        PyObject *code = PyDict_GetItemWithError(index, P->refnames[r]);
        if (!code) {
            if (PyErr_Occurred()) goto fail;
            goto done; /* undefined */
        }
        Py_ssize_t c = PyLong_AsSsize_t(code);
        if ((c & 1) != P->refbasic[r]) goto done; /* a <gate> naming a basic event, or the reverse */
        P->refs[r] = c;
    }
    /* Cycles: depth-first with colours (0 white, 1 grey, 2 black) and an explicit stack of (gate, next input). */
    Py_ssize_t N = G > B ? G : B;
    mark = PyMem_Calloc((size_t)(G + B), 1);
    stack = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(2 * G + 2));
    reach = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(N + 1));
    breach = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(B + 1));
    grank = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)G);
    gorder = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)G);
    brank = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(B + 1));
    border = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(B + 1));
    gobjs = PyMem_Calloc((size_t)G, sizeof(PyObject *));
    bobjs = PyMem_Calloc((size_t)(B + 1), sizeof(PyObject *));
    names = PyMem_Malloc(sizeof(PyObject *) * (size_t)(N + 1));
    if (!mark || !stack || !reach || !breach || !grank || !gorder || !brank || !border || !gobjs || !bobjs || !names) {
        PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t s = 0; s < G; s++) {
        if (mark[s]) continue;
        Py_ssize_t top = 0;
        mark[s] = 1;
        stack[top++] = s;
        stack[top++] = 0;
        while (top) {
            Py_ssize_t g = stack[top - 2], at = stack[top - 1];
            const PGate *pg = &P->gates[g];
            if (at == pg->n) {
                mark[g] = 2;
                top -= 2;
                continue;
            }
            stack[top - 1]++;
            Py_ssize_t c = P->refs[pg->first + at];
            if (c & 1) continue;
            c >>= 1;
            if (mark[c] == 1) goto done; /* a cycle */
            if (mark[c] == 0) {
                mark[c] = 1;
                stack[top++] = c;
                stack[top++] = 0;
            }
        }
    }
    /* Used: a gate no gate uses is a top; a basic event no gate uses is not read (as _Builder.trees). */
    memset(mark, 0, (size_t)(G + B));
    for (Py_ssize_t r = 0; r < R; r++) {
        Py_ssize_t c = P->refs[r];
        mark[(c & 1) ? G + (c >> 1) : c >> 1] = 1;
    }
    for (Py_ssize_t i = 0; i < G; i++) names[i] = P->gates[i].name;
    if (ranks(names, G, index, grank, gorder, 0) < 0) goto fail;
    for (Py_ssize_t j = 0; j < B; j++) names[j] = P->basics[j].name;
    if (ranks(names, B, index, brank, border, 1) < 0) goto fail;
    /* The records: every gate (each is under some top), the basic events in use. */
    for (Py_ssize_t i = 0; i < G; i++) {
        const PGate *pg = &P->gates[i];
        PyObject *inputs = PyTuple_New(pg->n), *origin = origin_of(LO, pg->el, what_gate);
        PyObject *k = pg->k < 0 ? Py_NewRef(Py_None) : PyLong_FromLong(pg->k);
        if (inputs)
            for (Py_ssize_t a = 0; a < pg->n; a++) {
                Py_ssize_t c = P->refs[pg->first + a];
                PyObject *in = (c & 1) ? P->basics[c >> 1].name : P->gates[c >> 1].name;
                PyTuple_SET_ITEM(inputs, a, Py_NewRef(in));
            }
        if (inputs && origin && k) {
            PyObject *v[6] = {pg->name, pg->kind, inputs, k, pg->label, origin};
            gobjs[i] = record(LG, v, 6);
        }
        Py_XDECREF(inputs);
        Py_XDECREF(origin);
        Py_XDECREF(k);
        if (!gobjs[i]) goto fail;
    }
    for (Py_ssize_t j = 0; j < B; j++) {
        if (!mark[G + j]) continue;
        const PBasic *pb = &P->basics[j];
        PyObject *p = PyFloat_FromDouble(pb->p), *origin = origin_of(LO, pb->el, what_basic);
        if (p && origin) {
            PyObject *v[4] = {pb->name, p, pb->label, origin};
            bobjs[j] = record(LB, v, 4);
        }
        Py_XDECREF(p);
        Py_XDECREF(origin);
        if (!bobjs[j]) goto fail;
    }
    /* One (top, gates, basic events) a top, tops in name order, each tree's nodes in name order. */
    result = PyList_New(0);
    if (!result) goto fail;
    for (Py_ssize_t r = 0; r < G; r++) {
        Py_ssize_t t = gorder[r];
        if (mark[t]) continue; /* used: not a top */
        PyObject *gd = PyDict_New(), *bd = PyDict_New(), *item = NULL;
        if (!gd || !bd) {
            Py_XDECREF(gd);
            Py_XDECREF(bd);
            goto fail;
        }
        /* The nodes under the top by their ranks, sorted: a walk costs what it reaches, not G + B. VISIT is
         * a bit of mark[] beside "used" (1), cleared again as the nodes are put in the dicts. */
        enum { VISIT = 4 };
        Py_ssize_t ng = 0, nb = 0, sp = 0;
        Py_ssize_t *todo = stack; /* each gate is pushed once: G entries */
        todo[sp++] = t;
        mark[t] |= VISIT;
        int ok = 0;
        while (sp) {
            Py_ssize_t g = todo[--sp];
            reach[ng++] = grank[g];
            const PGate *pg = &P->gates[g];
            for (Py_ssize_t a = 0; a < pg->n; a++) {
                Py_ssize_t c = P->refs[pg->first + a];
                Py_ssize_t m = (c & 1) ? G + (c >> 1) : c >> 1;
                if (mark[m] & VISIT) continue;
                mark[m] |= VISIT;
                if (c & 1)
                    breach[nb++] = brank[c >> 1];
                else
                    todo[sp++] = c >> 1;
            }
        }
        qsort(reach, (size_t)ng, sizeof(Py_ssize_t), cmp_ssize);
        qsort(breach, (size_t)nb, sizeof(Py_ssize_t), cmp_ssize);
        ok = 1;
        for (Py_ssize_t x = 0; ok && x < ng; x++) {
            Py_ssize_t g = gorder[reach[x]];
            mark[g] &= ~VISIT;
            ok = PyDict_SetItem(gd, P->gates[g].name, gobjs[g]) == 0;
        }
        for (Py_ssize_t x = 0; x < nb; x++) {
            Py_ssize_t j = border[breach[x]];
            mark[G + j] &= ~VISIT;
            if (ok) ok = PyDict_SetItem(bd, P->basics[j].name, bobjs[j]) == 0;
        }
        if (ok) item = PyTuple_Pack(3, P->gates[t].name, gd, bd);
        Py_DECREF(gd);
        Py_DECREF(bd);
        if (!item || PyList_Append(result, item) < 0) {
            Py_XDECREF(item);
            goto fail;
        }
        Py_DECREF(item);
    }
    st = OK;
    goto done;
fail:
    st = FAILED;
done:
    if (gobjs)
        for (Py_ssize_t i = 0; i < G; i++) Py_XDECREF(gobjs[i]);
    if (bobjs)
        for (Py_ssize_t j = 0; j < B; j++) Py_XDECREF(bobjs[j]);
    PyMem_Free(gobjs);
    PyMem_Free(bobjs);
    PyMem_Free(names);
    PyMem_Free(mark);
    PyMem_Free(stack);
    PyMem_Free(reach);
    PyMem_Free(breach);
    PyMem_Free(grank);
    PyMem_Free(gorder);
    PyMem_Free(brank);
    PyMem_Free(border);
    Py_XDECREF(index);
    if (st == OK) return result;
    Py_XDECREF(result);
    if (st == FAILED) return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_plain_model(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 5 || !PyList_Check(args[0]) || !PyDict_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "plain_model(roots, kinds, gate, basic_event, origin)");
        return NULL;
    }
    Layout LG, LB, LO;
    if (layout_of(&LG, args[2]) < 0 || layout_of(&LB, args[3]) < 0 || layout_of(&LO, args[4]) < 0) return NULL;
    if (LG.nfields != 6 || LB.nfields < 4 || LO.nfields != 4) {
        PyErr_SetString(PyExc_TypeError, "plain_model(): unexpected record fields");
        return NULL;
    }
    /* One model from all the files, as openpsa._Model collects it; each root an <opsa-mef>. */
    PyObject *roots = args[0];
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(roots); i++) {
        ElementObject *root = (ElementObject *)PyList_GET_ITEM(roots, i);
        if (!PyObject_TypeCheck(root, &ElementType) || !is_tag(root->tag, "opsa-mef") ||
            !PyList_Check(root->attributes))
            Py_RETURN_NONE;
    }
    Plain P;
    memset(&P, 0, sizeof P);
    P.kinds = args[1];
    P.space = PyUnicode_FromString(" ");
    PyObject *what_gate = PyUnicode_FromString("gate"), *what_basic = PyUnicode_FromString("basic-event");
    PyObject *out = NULL;
    int st = P.space && what_gate && what_basic ? OK : FAILED;
    for (Py_ssize_t i = 0; st == OK && i < PyList_GET_SIZE(roots); i++)
        st = plain_collect(&P, (ElementObject *)PyList_GET_ITEM(roots, i));
    if (st == OK) out = plain_trees(&P, &LG, &LB, &LO, what_gate, what_basic);
    else if (st == NOT_PLAIN) out = Py_NewRef(Py_None);
    for (Py_ssize_t i = 0; i < P.ngates; i++) {
        Py_XDECREF(P.gates[i].name);
        Py_XDECREF(P.gates[i].label);
    }
    for (Py_ssize_t j = 0; j < P.nbasics; j++) Py_XDECREF(P.basics[j].label);
    PyMem_Free(P.gates);
    PyMem_Free(P.basics);
    PyMem_Free(P.refnames);
    PyMem_Free(P.refbasic);
    PyMem_Free(P.refs);
    Py_XDECREF(P.space);
    Py_XDECREF(what_gate);
    Py_XDECREF(what_basic);
    return out;
}

static PyMethodDef xmlk_methods[] = {
    {"parse", (PyCFunction)(void (*)(void))py_parse, METH_FASTCALL,
     "parse(data, file, cls) -> the root element of plain XML, or None: read it with expat instead."},
    {"plain_model", (PyCFunction)(void (*)(void))py_plain_model, METH_FASTCALL,
     "plain_model(roots, kinds, gate, basic_event, origin) -> [(top, gates, basic events)] of a plain model, "
     "or None: read it with openpsa._Builder instead."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef xmlk_module = {
    PyModuleDef_HEAD_INIT, "_xmlk", "Elements of the Open-PSA reader and a fast path for plain XML.", -1,
    xmlk_methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__xmlk(void) {
    if (PyType_Ready(&ElementType) < 0) return NULL;
    PyObject *m = PyModule_Create(&xmlk_module);
    if (!m) return NULL;
    Py_INCREF(&ElementType);
    if (PyModule_AddObject(m, "ElementBase", (PyObject *)&ElementType) < 0) {
        Py_DECREF(&ElementType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
