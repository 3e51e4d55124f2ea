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
    PyObject *k = PyUnicode_DecodeASCII(s, n, NULL);
    if (!k) return NULL;
    PyObject *have = PyDict_GetItemWithError(r->names, k);
    if (have) {
        Py_DECREF(k);
        Py_INCREF(have);
        return have;
    }
    if (PyErr_Occurred() || PyDict_SetItem(r->names, k, k) < 0) {
        Py_DECREF(k);
        return NULL;
    }
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

static PyMethodDef xmlk_methods[] = {
    {"parse", (PyCFunction)(void (*)(void))py_parse, METH_FASTCALL,
     "parse(data, file, cls) -> the root element of plain XML, or None: read it with expat instead."},
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
