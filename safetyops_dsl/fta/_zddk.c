/* Minimal cut sets in C: Rauzy's minsol from a flat BDD into a ZDD, and two whole-family passes over a ZDD.
 *
 * The Python reference is safetyops_dsl/fta/zdd.py (`minimal_solutions`, `Zdd.without`, `Zdd.count_by_order`,
 * `Zdd.power_sums`); this module computes the same families and the same numbers. Input BDDs use the layout
 * of bdd.FlatBdd: node 0 is the constant TRUE, edges are 2 * node + complemented, children are numbered
 * below their parents.
 *
 * ZDD nodes live in one array of (var, hi, lo, eps) records with an open-addressing unique table; the memo
 * tables are open-addressing hash maps that grow with the work. Every recursion (minsol, without) runs on an
 * explicit stack, so a BDD with 100,000 levels cannot overflow the C stack. Inputs are checked (edges in
 * range, children numbered below and ordered below their parents): malformed input raises ValueError or
 * TypeError, never crashes, also when an item's __index__ or a signal handler changes the lists meanwhile.
 *
 * Integer inputs that are array('i') (int32) and probabilities that are array('d') (what _bddk.flatten and
 * node_probabilities return) are read through the buffer protocol, with no conversion of Python objects;
 * any other sequence is read item by item, with the same checks. A buffer stays held for the whole call, so
 * its length cannot change, and every item is checked when it is read.
 *
 * The result of minimal_solutions is compacted to the nodes reachable from the root, numbered in the order
 * the working store created them (children before parents), so the same input always gives the same lists.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "_kernel_buffers.h"

#if INT_MAX != 0x7FFFFFFF
#error "array.array('i') must hold 32-bit ints"
#endif

enum { EMPTY = 0, BASE = 1 };

#define BIG INT32_MAX                   /* "no order limit" for a minsol call */
#define MAX_VARS ((Py_ssize_t)1 << 30)  /* variables, and BDD nodes (so that edges fit an int32) */
#define MAX_NODES ((int32_t)0x7FFFFFF0) /* ZDD nodes of the working store */
#define GOLD 0x9E3779B97F4A7C15ULL
#define SIGNAL_PERIOD (1u << 20) /* steps between checks for Ctrl-C */

/* ------------------------------------------------------------------------------------------------------ */
/* Memory helpers                                                                                           */

static void *xmalloc(size_t count, size_t elem) {
    if (count == 0) count = 1;
    if (count > SIZE_MAX / elem) {
        PyErr_NoMemory();
        return NULL;
    }
    void *p = PyMem_RawMalloc(count * elem);
    if (p == NULL) PyErr_NoMemory();
    return p;
}

static void *xcalloc(size_t count, size_t elem) {
    if (count == 0) count = 1;
    void *p = PyMem_RawCalloc(count, elem);
    if (p == NULL) PyErr_NoMemory();
    return p;
}

/* Grow *p (holding *cap elements) to at least `need` elements, doubling. */
static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / elem) {
            PyErr_NoMemory();
            return -1;
        }
        nc *= 2;
    }
    void *q = PyMem_RawRealloc(*p, nc * elem);
    if (q == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *p = q;
    *cap = nc;
    return 0;
}

/* ------------------------------------------------------------------------------------------------------ */
/* Hash map (a, b) -> int32 (open addressing, linear probing, Fibonacci hashing). 12-byte entries: the memo
 * tables are most of the memory, and fresh pages cost more than the probes. a == 0 marks a free slot (no key
 * has a == 0: a is a ZDD node or a BDD edge >= 2), so a table from calloc needs no initialisation. */

typedef struct {
    uint32_t a, b;
    int32_t val;
} MapEntry;

typedef struct {
    MapEntry *t;
    size_t mask;
    size_t count;
    int shift;
} Map;

static int map_init(Map *m, int logsize) {
    size_t cap = (size_t)1 << logsize;
    m->t = xcalloc(cap, sizeof(MapEntry));
    if (m->t == NULL) return -1;
    m->mask = cap - 1;
    m->count = 0;
    m->shift = 64 - logsize;
    return 0;
}

static void map_free(Map *m) {
    PyMem_RawFree(m->t);
    m->t = NULL;
}

static inline size_t map_slot(const Map *m, uint32_t a, uint32_t b) {
    return (size_t)(((((uint64_t)a << 32) | b) * GOLD) >> m->shift);
}

static inline int32_t map_get(const Map *m, uint32_t a, uint32_t b) {
    size_t i = map_slot(m, a, b);
    for (;;) {
        const MapEntry *e = &m->t[i];
        if (e->a == a && e->b == b) return e->val;
        if (e->a == 0) return -1;
        i = (i + 1) & m->mask;
    }
}

static int map_grow(Map *m) {
    Map n;
    int logsize = 64 - m->shift + 1;
    if (logsize > 60) {
        PyErr_NoMemory();
        return -1;
    }
    if (map_init(&n, logsize) < 0) return -1;
    for (size_t i = 0; i <= m->mask; i++) {
        MapEntry *e = &m->t[i];
        if (e->a == 0) continue;
        size_t j = map_slot(&n, e->a, e->b);
        while (n.t[j].a != 0) j = (j + 1) & n.mask;
        n.t[j] = *e;
    }
    n.count = m->count;
    map_free(m);
    *m = n;
    return 0;
}

static int map_put(Map *m, uint32_t a, uint32_t b, int32_t val) {
    size_t i = map_slot(m, a, b);
    for (;;) {
        MapEntry *e = &m->t[i];
        if (e->a == a && e->b == b) {
            e->val = val;
            return 0;
        }
        if (e->a == 0) break;
        i = (i + 1) & m->mask;
    }
    m->t[i] = (MapEntry){a, b, val};
    m->count++;
    if (m->count * 3 > (m->mask + 1) * 2) return map_grow(m); /* load factor 2/3 */
    return 0;
}

/* ------------------------------------------------------------------------------------------------------ */
/* ZDD store                                                                                                */

typedef struct {
    int32_t var, hi, lo, eps; /* eps: the family holds the empty set */
} ZNode;

typedef struct {
    int32_t f, g, a, state;
} WFrame;

typedef struct {
    int32_t e, k, lo_z, state;
} MFrame;

typedef struct {
    ZNode *node;
    size_t ncap;
    int32_t nsize;
    int32_t *ut; /* unique table: node numbers, 0 = free slot (terminals are never in it) */
    size_t umask;
    size_t ucount;
    int ushift;
    Map wmemo; /* without: (f, g) -> result */
    WFrame *wst;
    size_t wcap;
    unsigned ticks;
    size_t steps, step_limit; /* step_limit 0: none; else the work stops (-1, no exception) past it */
    int over_budget;
} Ctx;

static void ctx_free(Ctx *c) {
    PyMem_RawFree(c->node);
    PyMem_RawFree(c->ut);
    map_free(&c->wmemo);
    PyMem_RawFree(c->wst);
}

/* log2 of a table size that holds `expect` entries at a load below 2/3 (at least 2^10). */
static int log_size_for(size_t expect) {
    int logsize = 10;
    while (logsize < 40 && ((size_t)1 << logsize) * 2 < expect * 3) logsize++;
    return logsize;
}

/* The tables are sized for the work a BDD of `bdd_nodes` nodes typically needs (on the Aralia trees: a
 * working store of ~2 and without memo entries of ~2-9 ZDD nodes per BDD node); growing them costs more
 * than the work itself (fresh pages and a rehash with random writes). */
static int ctx_init(Ctx *c, int32_t nvars, size_t bdd_nodes) {
    memset(c, 0, sizeof(*c));
    c->ncap = 3 * bdd_nodes + 64;
    c->node = xmalloc(c->ncap, sizeof(ZNode));
    int logsize = log_size_for(3 * bdd_nodes);
    c->ut = xcalloc((size_t)1 << logsize, sizeof(int32_t));
    if (c->node == NULL || c->ut == NULL || map_init(&c->wmemo, log_size_for(4 * bdd_nodes)) < 0) {
        ctx_free(c);
        return -1;
    }
    c->umask = ((size_t)1 << logsize) - 1;
    c->ushift = 64 - logsize;
    c->node[EMPTY] = (ZNode){nvars, EMPTY, EMPTY, 0};
    c->node[BASE] = (ZNode){nvars, EMPTY, EMPTY, 1};
    c->nsize = 2;
    return 0;
}

static inline size_t ut_slot(const Ctx *c, int32_t v, int32_t hi, int32_t lo) {
    uint64_t x = (((uint64_t)(uint32_t)hi << 32) | (uint32_t)lo) ^ ((uint64_t)(uint32_t)v * 0xC2B2AE3D27D4EB4FULL);
    return (size_t)((x * GOLD) >> c->ushift);
}

static int ut_grow(Ctx *c) {
    size_t oldcap = c->umask + 1;
    int logsize = 64 - c->ushift + 1;
    if (logsize > 40) {
        PyErr_NoMemory();
        return -1;
    }
    int32_t *t = xcalloc((size_t)1 << logsize, sizeof(int32_t));
    if (t == NULL) return -1;
    int32_t *old = c->ut;
    c->ut = t;
    c->umask = ((size_t)1 << logsize) - 1;
    c->ushift = 64 - logsize;
    for (size_t i = 0; i < oldcap; i++) {
        int32_t n = old[i];
        if (n == 0) continue;
        const ZNode *z = &c->node[n];
        size_t j = ut_slot(c, z->var, z->hi, z->lo);
        while (t[j] != 0) j = (j + 1) & c->umask;
        t[j] = n;
    }
    PyMem_RawFree(old);
    return 0;
}

/* The node (v, hi, lo), zero-suppressed and shared. -1 on error (exception set). */
static int32_t mk(Ctx *c, int32_t v, int32_t hi, int32_t lo) {
    if (hi == EMPTY) return lo;
    size_t i = ut_slot(c, v, hi, lo);
    int32_t *t = c->ut;
    const ZNode *N = c->node;
    for (;;) {
        int32_t n = t[i];
        if (n == 0) break;
        if (N[n].hi == hi && N[n].lo == lo && N[n].var == v) return n;
        i = (i + 1) & c->umask;
    }
    if (c->nsize >= MAX_NODES) {
        PyErr_SetString(PyExc_MemoryError, "ZDD node store full");
        return -1;
    }
    if ((size_t)c->nsize == c->ncap && grow((void **)&c->node, &c->ncap, c->ncap + 1, sizeof(ZNode)) < 0) return -1;
    int32_t n = c->nsize++;
    c->node[n] = (ZNode){v, hi, lo, c->node[lo].eps};
    t[i] = n;
    c->ucount++;
    if (c->ucount * 3 > (c->umask + 1) * 2 && ut_grow(c) < 0) return -1;
    return n;
}

static inline int tick(Ctx *c) {
    if (c->step_limit && ++c->steps > c->step_limit) {
        c->over_budget = 1;
        return -1;
    }
    if (++c->ticks >= SIGNAL_PERIOD) {
        c->ticks = 0;
        if (PyErr_CheckSignals() < 0) return -1;
    }
    return 0;
}

/* Sets of f that contain no set of g. Same recursion as Zdd.without, on an explicit stack.
 *   vf < vg:  (vf, without(hi f, g), without(lo f, g))
 *   vf == vg: (vf, without(without(hi f, hi g), lo g), without(lo f, lo g))
 * Frame states: 0 = case 1 waiting for the hi result; 1 = case 2 waiting for without(hi f, hi g);
 * 2 = case 2 waiting for the hi result; 3 = waiting for the lo result. -1 on error. */
static int32_t without(Ctx *c, int32_t f, int32_t g) {
    size_t sp = 0;
    int32_t r;
    for (;;) {
        /* call (f, g) */
        if (tick(c) < 0) return -1;
        {
            const ZNode *N = c->node;
            if (f == EMPTY || g == EMPTY) {
                r = f;
                goto ret;
            }
            if (f == g || N[g].eps) {
                r = EMPTY;
                goto ret;
            }
            if (f == BASE) {
                r = BASE; /* g has no empty set here */
                goto ret;
            }
            int32_t vf = N[f].var;
            /* Sets of g on variables above f's top can never be inside a set of f. */
            while (N[g].var < vf) {
                g = N[g].lo;
                if (g == EMPTY) {
                    r = f;
                    goto ret;
                }
                if (N[g].eps) {
                    r = EMPTY;
                    goto ret;
                }
            }
            if (f == g) {
                r = EMPTY;
                goto ret;
            }
            r = map_get(&c->wmemo, (uint32_t)f, (uint32_t)g);
            if (r >= 0) goto ret;
            if (sp == c->wcap && grow((void **)&c->wst, &c->wcap, sp + 1, sizeof(WFrame)) < 0) return -1;
            int split = vf < N[g].var;
            c->wst[sp++] = (WFrame){f, g, 0, split ? 0 : 1};
            f = N[f].hi;
            if (!split) g = N[g].hi;
            continue;
        }
    ret:
        while (sp > 0) {
            WFrame *fr = &c->wst[sp - 1];
            const ZNode *N = c->node;
            switch (fr->state) {
            case 0:
                fr->a = r;
                fr->state = 3;
                f = N[fr->f].lo;
                g = fr->g;
                goto next_call;
            case 1:
                fr->state = 2;
                f = r;
                g = N[fr->g].lo;
                goto next_call;
            case 2:
                fr->a = r;
                fr->state = 3;
                f = N[fr->f].lo;
                g = N[fr->g].lo;
                goto next_call;
            default:
                r = mk(c, N[fr->f].var, fr->a, r);
                if (r < 0) return -1;
                if (map_put(&c->wmemo, (uint32_t)fr->f, (uint32_t)fr->g, r) < 0) return -1;
                sp--;
            }
        }
        return r;
    next_call:;
    }
}

/* ------------------------------------------------------------------------------------------------------ */
/* Argument conversion                                                                                      */

/* Python int (or __index__ object) -> long long in [lo, hi]; -1 with an exception on failure. */
static int as_ll(PyObject *item, long long lo, long long hi, long long *out, const char *what, Py_ssize_t pos) {
    int overflow = 0;
    long long v;
    if (PyLong_Check(item)) {
        v = PyLong_AsLongLongAndOverflow(item, &overflow);
    } else {
        PyObject *ix = PyNumber_Index(item);
        if (ix == NULL) {
            PyErr_Format(PyExc_TypeError, "%s[%zd] must be an int, not %.100s", what, pos, Py_TYPE(item)->tp_name);
            return -1;
        }
        v = PyLong_AsLongLongAndOverflow(ix, &overflow);
        Py_DECREF(ix);
    }
    if (v == -1 && PyErr_Occurred()) return -1;
    if (overflow || v < lo || v > hi) {
        PyErr_Format(PyExc_ValueError, "%s[%zd] out of range", what, pos);
        return -1;
    }
    *out = v;
    return 0;
}

/* Item i of a fast sequence as a long long in [lo, hi]. The sequence is looked at afresh on every call: the
 * __index__ of an item, or a signal handler, may run Python code that changes a list while we read it. */
static int get_ll(PyObject *fast, Py_ssize_t i, long long lo, long long hi, long long *out, const char *what) {
    if (i >= PySequence_Fast_GET_SIZE(fast)) {
        PyErr_Format(PyExc_ValueError, "%s changed size during the call", what);
        return -1;
    }
    PyObject *item = PySequence_Fast_GET_ITEM(fast, i);
    if (PyLong_CheckExact(item)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(item, &overflow);
        if (!overflow && v >= lo && v <= hi) {
            *out = v;
            return 0;
        }
    }
    Py_INCREF(item);
    int rc = as_ll(item, lo, hi, out, what, i);
    Py_DECREF(item);
    return rc;
}


/* An input of ints: an int32 buffer read in place, or a fast sequence read item by item. */
typedef struct {
    PyObject *fast;      /* sequence path (owned), else NULL */
    const int32_t *buf;  /* buffer path */
    Py_ssize_t n;        /* buffer path: the length (fixed while the view is held) */
    Py_buffer view;      /* view.obj != NULL: a held buffer */
} Src;

/* Opens obj as a Src (TypeError `err` if it is neither an int32 buffer nor a sequence). */
static int src_open(Src *s, PyObject *obj, const char *what, const char *err) {
    s->fast = NULL;
    s->buf = NULL;
    s->n = 0;
    int r = typed_view(obj, "il", 4, &s->view, what);
    if (r < 0) return -1;
    if (r) {
        s->buf = (const int32_t *)s->view.buf;
        s->n = s->view.len / 4;
        return 0;
    }
    s->fast = PySequence_Fast(obj, err);
    return s->fast == NULL ? -1 : 0;
}

static void src_close(Src *s) {
    Py_CLEAR(s->fast);
    PyBuffer_Release(&s->view); /* nothing when view.obj is NULL */
    s->buf = NULL;
}

static inline Py_ssize_t src_len(const Src *s) { return s->fast ? PySequence_Fast_GET_SIZE(s->fast) : s->n; }

/* Item i of a Src as a long long in [lo, hi] (as get_ll). */
static inline int src_get(const Src *s, Py_ssize_t i, long long lo, long long hi, long long *out, const char *what) {
    if (s->fast) return get_ll(s->fast, i, lo, hi, out, what);
    if (i >= s->n) {
        PyErr_Format(PyExc_ValueError, "%s changed size during the call", what);
        return -1;
    }
    long long v = s->buf[i];
    if (v < lo || v > hi) {
        PyErr_Format(PyExc_ValueError, "%s[%zd] out of range", what, i);
        return -1;
    }
    *out = v;
    return 0;
}

/* The first n items of a Src (which must still have them) -> a new int32 array (values in [lo, hi]). A
 * buffer is copied too: minsol checks for signals, and a handler could rewrite an array('i') in place after
 * the checks. */
static int32_t *src_i32(const Src *s, Py_ssize_t n, const char *what, long long lo, long long hi) {
    int32_t *out = xmalloc((size_t)n, sizeof(int32_t));
    if (out == NULL) return NULL;
    if (!s->fast && n <= s->n) {
        const int32_t *in = s->buf;
        int bad = 0;
        for (Py_ssize_t i = 0; i < n; i++) { /* copy and check in one branch-light pass */
            int32_t v = in[i];
            out[i] = v;
            bad |= v < lo || v > hi;
        }
        if (!bad) return out;
    }
    for (Py_ssize_t i = 0; i < n; i++) { /* the sequence path, or find the bad item for the message */
        long long v;
        if (src_get(s, i, lo, hi, &v, what) < 0) {
            PyMem_RawFree(out);
            return NULL;
        }
        out[i] = (int32_t)v;
    }
    return out;
}

static PyObject *i32_list(const int32_t *a, Py_ssize_t n) {
    PyObject *list = PyList_New(n);
    if (list == NULL) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = PyLong_FromLong(a[i]);
        if (v == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, v);
    }
    return list;
}

/* ------------------------------------------------------------------------------------------------------ */
/* minimal_solutions                                                                                        */

/* Limits up to this many events read the BDD lazily: a call with k events left stays within k high edges of
 * the root (CEA9601 with limit 1 reads 2,400 of its 1.1 million nodes: 2 ms, against 30 ms to convert them
 * all), so converting the whole input would cost more than the work. Every node read is checked as in the
 * full conversion; nodes never reached are not looked at. These limits bound the longest path below a node by
 * the number of variables below it (as zdd.minimal_solutions does up to EXACT_LONGEST_FROM = 4). Larger
 * limits (and no limit) convert everything up front, and share memo entries through the exact longest path,
 * computed in the same pass. */
#ifndef LAZY_MAX
#define LAZY_MAX 4
#endif

/* A node of the input in lazy mode: one record, so that a visit touches one page of memory, not five. */
typedef struct {
    int32_t level, high, low;
    uint8_t known; /* 1: level read, 2: level, edges and variable order checked */
    uint8_t te;    /* 0 unknown, else the node's value with every event false, + 1 */
} LNode;

typedef struct {
    int32_t *level, *high, *low; /* full mode */
    int32_t *long0, *long1; /* longest path to TRUE (high edges counted) below a regular / complemented edge to
                               the node, -1 when TRUE is unreachable (full mode) */
    uint8_t *te;            /* value of the node (regular edge) with every event false (full mode) */
    int32_t *umemo;         /* edge -> result + 1 (0: not computed) for unlimited calls */
    Map lmemo;              /* (edge, k) -> result for limited calls */
    MFrame *st;
    size_t cap;
    /* lazy mode */
    int lazy;
    int32_t nvars;
    const Src *ilevel, *ihigh, *ilow; /* the inputs */
    LNode *ln;                       /* node -> record (from calloc: pages are touched when visited) */
    int32_t *chain;                  /* scratch stack for te */
    size_t chain_cap;
} Minsol;

static int read_level(Minsol *m, int32_t i) {
    LNode *ln = &m->ln[i];
    if (ln->known) return 0;
    long long v;
    if (src_get(m->ilevel, i, 0, (long long)m->nvars - 1, &v, "level") < 0) return -1;
    ln->level = (int32_t)v;
    ln->known = 1;
    return 0;
}

/* Reads and checks node i (i >= 1) of the input, as the full conversion does for every node. */
static int read_node(Minsol *m, int32_t i) {
    LNode *ln = m->ln;
    if (ln[i].known == 2) return 0;
    long long h, l;
    if (read_level(m, i) < 0 || src_get(m->ihigh, i, INT32_MIN, INT32_MAX, &h, "high") < 0 ||
        src_get(m->ilow, i, INT32_MIN, INT32_MAX, &l, "low") < 0)
        return -1;
    if (h < 0 || l < 0 || (h >> 1) >= i || (l >> 1) >= i) {
        PyErr_Format(PyExc_ValueError, "node %d: child edges must point to lower-numbered nodes", (int)i);
        return -1;
    }
    if (read_level(m, (int32_t)(h >> 1)) < 0 || read_level(m, (int32_t)(l >> 1)) < 0) return -1;
    if (ln[h >> 1].level <= ln[i].level || ln[l >> 1].level <= ln[i].level) {
        PyErr_Format(PyExc_ValueError, "node %d: children must have larger levels (variable order)", (int)i);
        return -1;
    }
    ln[i].high = (int32_t)h;
    ln[i].low = (int32_t)l;
    ln[i].known = 2;
    return 0;
}

/* Value of edge e with every event false: 1 or 0, -1 on error. */
static int true_at_empty(Minsol *m, int32_t e) {
    int32_t node = e >> 1;
    if (!m->lazy) return m->te[node] ^ (e & 1);
    /* Follow the low edges down to a node whose value is known, then fill the values back in. */
    LNode *ln = m->ln;
    size_t sp = 0;
    while (!ln[node].te) {
        if (read_node(m, node) < 0) return -1;
        if (sp == m->chain_cap && grow((void **)&m->chain, &m->chain_cap, sp + 1, sizeof(int32_t)) < 0) return -1;
        m->chain[sp++] = node;
        node = ln[node].low >> 1;
    }
    while (sp > 0) {
        int32_t i = m->chain[--sp];
        int32_t l = ln[i].low;
        ln[i].te = (uint8_t)((((ln[l >> 1].te - 1) ^ (l & 1)) & 1) + 1);
    }
    return (ln[e >> 1].te - 1) ^ (e & 1);
}

/* minsol(e) keeping sets of at most k events (k == BIG: no limit), on an explicit stack.
 * Frame states: 0 = waiting for minsol(low), 1 = waiting for minsol(high). -1 on error. */
static int32_t minsol(Ctx *c, Minsol *m, int32_t e, int32_t k) {
    size_t sp = 0;
    int32_t r;
    for (;;) {
        /* call (e, k) */
        if (tick(c) < 0) return -1;
        if (e <= 1) {
            r = e == 0 ? BASE : EMPTY;
        } else if (k == 0) {
            int t = true_at_empty(m, e);
            if (t < 0) return -1;
            r = t ? BASE : EMPTY;
        } else {
            int32_t node = e >> 1, low;
            /* A limit at least as long as the longest path below e cuts nothing: share the unlimited entry. */
            if (m->lazy) {
                if (read_node(m, node) < 0) return -1;
                if (k != BIG && k >= m->nvars - m->ln[node].level) k = BIG;
                low = m->ln[node].low;
            } else {
                if (k != BIG && k >= ((e & 1) ? m->long1[node] : m->long0[node])) k = BIG;
                low = m->low[node];
            }
            if (k == BIG)
                r = m->umemo[e] - 1;
            else
                r = map_get(&m->lmemo, (uint32_t)e, (uint32_t)k);
            if (r < 0) {
                if (sp == m->cap && grow((void **)&m->st, &m->cap, sp + 1, sizeof(MFrame)) < 0) return -1;
                m->st[sp++] = (MFrame){e, k, 0, 0};
                e = low ^ (e & 1);
                continue;
            }
        }
        /* return r */
        while (sp > 0) {
            MFrame *fr = &m->st[sp - 1];
            int32_t node = fr->e >> 1;
            const LNode *ln = m->lazy ? &m->ln[node] : NULL;
            if (fr->state == 0) {
                fr->lo_z = r;
                fr->state = 1;
                e = (ln ? ln->high : m->high[node]) ^ (fr->e & 1);
                k = fr->k == BIG ? BIG : fr->k - 1;
                goto next_call;
            }
            int32_t hz = without(c, r, fr->lo_z);
            if (hz < 0) return -1;
            int32_t level = ln ? ln->level : m->level[node];
            r = mk(c, level, hz, fr->lo_z);
            if (r < 0) return -1;
            if (fr->k == BIG)
                m->umemo[fr->e] = r + 1;
            else if (map_put(&m->lmemo, (uint32_t)fr->e, (uint32_t)fr->k, r) < 0)
                return -1;
            sp--;
        }
        return r;
    next_call:;
    }
}

/* The number of events of the largest set of the family root (-1 for the empty family). Children are made
 * before their parents, so one pass over the store in creation order. */
static int32_t max_order(const Ctx *c, int32_t root) {
    int32_t *order = xmalloc((size_t)root + 1, sizeof(int32_t));
    if (order == NULL) {
        PyErr_Clear();
        return INT32_MAX; /* unknown: the caller takes the limited path */
    }
    order[EMPTY] = -1;
    if (root >= BASE) order[BASE] = 0;
    for (int32_t i = BASE + 1; i <= root; i++) {
        const ZNode *N = &c->node[i];
        int32_t h = order[N->hi] >= 0 ? order[N->hi] + 1 : -1;
        order[i] = h > order[N->lo] ? h : order[N->lo];
    }
    int32_t out = order[root];
    PyMem_RawFree(order);
    return out;
}

/* The nodes of the working store reachable from root, renumbered in creation order, as Python lists. */
static PyObject *export_zdd(const Ctx *c, int32_t root) {
    int32_t count = 2;
    int32_t *newid = NULL;
    int32_t *var = NULL, *hi = NULL, *lo = NULL;
    PyObject *lv = NULL, *lh = NULL, *ll = NULL, *result = NULL;
    if (root > BASE) {
        newid = xcalloc((size_t)root + 1, sizeof(int32_t)); /* 0: unreachable, 1: reachable */
        if (newid == NULL) goto done;
        newid[root] = 1;
        for (int32_t i = root; i > BASE; i--) {
            if (!newid[i]) continue;
            newid[c->node[i].hi] = 1;
            newid[c->node[i].lo] = 1;
        }
        for (int32_t i = 2; i <= root; i++)
            if (newid[i]) newid[i] = count++;
    }
    var = xmalloc((size_t)count, sizeof(int32_t));
    hi = xmalloc((size_t)count, sizeof(int32_t));
    lo = xmalloc((size_t)count, sizeof(int32_t));
    if (var == NULL || hi == NULL || lo == NULL) goto done;
    var[0] = var[1] = c->node[0].var;
    hi[0] = hi[1] = lo[0] = lo[1] = EMPTY;
    int32_t out_root = root;
    if (root > BASE) {
        newid[0] = EMPTY;
        newid[1] = BASE;
        for (int32_t i = 2; i <= root; i++) {
            int32_t n = newid[i];
            if (n < 2) continue;
            var[n] = c->node[i].var;
            hi[n] = newid[c->node[i].hi];
            lo[n] = newid[c->node[i].lo];
        }
        out_root = newid[root];
    }
    lv = i32_list(var, count);
    lh = lv ? i32_list(hi, count) : NULL;
    ll = lh ? i32_list(lo, count) : NULL;
    if (ll != NULL && (result = PyTuple_New(4)) != NULL) {
        PyObject *pr = PyLong_FromLong(out_root);
        if (pr == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyTuple_SET_ITEM(result, 0, lv);
        PyTuple_SET_ITEM(result, 1, lh);
        PyTuple_SET_ITEM(result, 2, ll);
        PyTuple_SET_ITEM(result, 3, pr);
        lv = lh = ll = NULL; /* owned by the tuple */
    }
done:
    Py_XDECREF(lv);
    Py_XDECREF(lh);
    Py_XDECREF(ll);
    PyMem_RawFree(newid);
    PyMem_RawFree(var);
    PyMem_RawFree(hi);
    PyMem_RawFree(lo);
    return result;
}

PyDoc_STRVAR(minimal_solutions_doc,
             "minimal_solutions(level, high, low, root, nvars, limit, *, first_steps=-1) -> (var, hi, lo, root)\n\n"
             "ZDD of the minimal true points of a flat BDD (bdd.FlatBdd layout), keeping only sets of at\n"
             "most `limit` events (None: no limit). The ZDD is standalone and compact: node 0 EMPTY, node 1\n"
             "BASE (var nvars), every other node n the family {S + {var[n]} : S in hi[n]} | lo[n], children\n"
             "numbered below parents, only nodes reachable from root. With a limit above 4, the unlimited\n"
             "family is tried first within `first_steps` steps (-1: 16 per BDD node + 65,536; 0: not tried).");

static PyObject *py_minimal_solutions(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *kwlist[] = {"level", "high", "low", "root", "nvars", "limit", "first_steps", NULL};
    PyObject *olevel, *ohigh, *olow, *olimit;
    Py_ssize_t root, nvars, first_steps = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOnnO|$n:minimal_solutions", kwlist, &olevel, &ohigh, &olow,
                                     &root, &nvars, &olimit, &first_steps))
        return NULL;
    if (nvars < 0 || nvars > MAX_VARS) return PyErr_Format(PyExc_ValueError, "nvars out of range: %zd", nvars);
    int unlimited = 0;
    long long limit = 0;
    if (olimit == Py_None) {
        unlimited = 1;
    } else {
        if (!PyIndex_Check(olimit))
            return PyErr_Format(PyExc_TypeError, "limit must be None or an int, not %.100s", Py_TYPE(olimit)->tp_name);
        PyObject *ix = PyNumber_Index(olimit);
        if (ix == NULL) return NULL;
        int overflow = 0;
        limit = PyLong_AsLongLongAndOverflow(ix, &overflow);
        Py_DECREF(ix);
        if (limit == -1 && PyErr_Occurred()) return NULL;
        if (overflow < 0 || (!overflow && limit < 0)) return PyErr_Format(PyExc_ValueError, "limit must be >= 0");
        if (overflow > 0 || limit >= nvars) unlimited = 1;
    }

    PyObject *result = NULL;
    Src fl = {0}, fh = {0}, fo = {0};
    int32_t *level = NULL, *high = NULL, *low = NULL, *long0 = NULL, *long1 = NULL;
    uint8_t *te = NULL;
    Ctx ctx;
    int have_ctx = 0;
    Minsol m;
    memset(&m, 0, sizeof(m));

    if (src_open(&fl, olevel, "level", "level must be a sequence") < 0 ||
        src_open(&fh, ohigh, "high", "high must be a sequence") < 0 ||
        src_open(&fo, olow, "low", "low must be a sequence") < 0)
        goto done;
    Py_ssize_t n = src_len(&fl);
    if (n < 1 || src_len(&fh) != n || src_len(&fo) != n) {
        PyErr_SetString(PyExc_ValueError, "level, high and low must have the same length >= 1");
        goto done;
    }
    if (n > MAX_VARS) {
        PyErr_SetString(PyExc_ValueError, "BDD too large");
        goto done;
    }
    if (root < 0 || root >= 2 * n) {
        PyErr_Format(PyExc_ValueError, "root edge %zd out of range", root);
        goto done;
    }
    size_t work_hint = (size_t)n;
    if (!unlimited && limit <= LAZY_MAX) {
        /* Lazy mode: nodes are read (and checked) when minsol first reaches them. */
        long long top;
        if (src_get(&fl, 0, 0, nvars, &top, "level") < 0) goto done;
        if (top != nvars) {
            PyErr_Format(PyExc_ValueError, "level[0] must be nvars (node 0 is the constant TRUE)");
            goto done;
        }
        m.lazy = 1;
        m.nvars = (int32_t)nvars;
        m.ilevel = &fl;
        m.ihigh = &fh;
        m.ilow = &fo;
        m.ln = xcalloc((size_t)n, sizeof(LNode));
        if (m.ln == NULL) goto done;
        m.ln[0] = (LNode){(int32_t)nvars, 0, 0, 2, 2}; /* TRUE: its value is 1, + 1 */
        if (work_hint > 4096) work_hint = 4096;
    } else {
        level = src_i32(&fl, n, "level", 0, nvars);
        high = level ? src_i32(&fh, n, "high", INT32_MIN, INT32_MAX) : NULL;
        low = high ? src_i32(&fo, n, "low", INT32_MIN, INT32_MAX) : NULL;
        te = low ? xmalloc((size_t)n, 1) : NULL;
        if (te == NULL) goto done;
        if (level[0] != nvars) {
            PyErr_Format(PyExc_ValueError, "level[0] must be nvars (node 0 is the constant TRUE)");
            goto done;
        }
        if (!unlimited) {
            long0 = xmalloc((size_t)n, sizeof(int32_t));
            long1 = xmalloc((size_t)n, sizeof(int32_t));
            if (long0 == NULL || long1 == NULL) goto done;
            long0[0] = 0;
            long1[0] = -1; /* edge 1 is FALSE */
        }
        te[0] = 1;
        for (Py_ssize_t i = 1; i < n; i++) {
            int32_t v = level[i], h = high[i], l = low[i];
            if (v >= nvars) {
                PyErr_Format(PyExc_ValueError, "level[%zd] out of range", i);
                goto done;
            }
            if (h < 0 || l < 0 || (h >> 1) >= i || (l >> 1) >= i) {
                PyErr_Format(PyExc_ValueError, "node %zd: child edges must point to lower-numbered nodes", i);
                goto done;
            }
            if (level[h >> 1] <= v || level[l >> 1] <= v) {
                PyErr_Format(PyExc_ValueError, "node %zd: children must have larger levels (variable order)", i);
                goto done;
            }
            te[i] = te[l >> 1] ^ (uint8_t)(l & 1);
            if (!unlimited) {
                int32_t h0, h1, l0, l1, a;
                if (h & 1) {
                    h0 = long1[h >> 1];
                    h1 = long0[h >> 1];
                } else {
                    h0 = long0[h >> 1];
                    h1 = long1[h >> 1];
                }
                if (l & 1) {
                    l0 = long1[l >> 1];
                    l1 = long0[l >> 1];
                } else {
                    l0 = long0[l >> 1];
                    l1 = long1[l >> 1];
                }
                a = h0 >= 0 ? h0 + 1 : -1;
                long0[i] = a > l0 ? a : l0;
                a = h1 >= 0 ? h1 + 1 : -1;
                long1[i] = a > l1 ? a : l1;
            }
        }
        m.level = level;
        m.high = high;
        m.low = low;
        m.long0 = long0;
        m.long1 = long1;
        m.te = te;
    }

    if (ctx_init(&ctx, (int32_t)nvars, work_hint) < 0) goto done;
    have_ctx = 1;
    if ((m.umemo = xcalloc((size_t)(2 * n), sizeof(int32_t))) == NULL) goto done;
    if (!unlimited && map_init(&m.lmemo, log_size_for(work_hint)) < 0) goto done;
    int32_t r = -1;
    if (!unlimited && !m.lazy) {
        /* The longest path of the BDD (the bound that lets a limited call share the unlimited result) can be
         * far longer than the largest minimal solution: on das9601 (22,668 nodes, limit 20, no set above 9
         * events) the limited call made up to 20 memo entries a node, 52 ms against 4 ms unlimited. So the
         * unlimited family is tried first, within a step budget linear in the BDD; if its largest set fits
         * the limit it is the answer (the limited family is its sets of at most `limit` events). Otherwise
         * the limited call runs as before and shares every unlimited result already made (exact, whether or
         * not the attempt finished). */
        ctx.step_limit = first_steps < 0 ? 16 * (size_t)n + 65536 : (size_t)first_steps;
        if (ctx.step_limit > 0) {
            int32_t u = minsol(&ctx, &m, (int32_t)root, BIG);
            ctx.step_limit = 0;
            if (u < 0 && !ctx.over_budget) goto done;
            if (u >= 0 && max_order(&ctx, u) <= limit) r = u;
        }
    }
    if (r < 0) r = minsol(&ctx, &m, (int32_t)root, unlimited ? BIG : (int32_t)limit);
    if (r < 0) goto done;
    /* The memo tables are no longer needed: free them before the lists are built. */
    map_free(&ctx.wmemo);
    map_free(&m.lmemo);
    PyMem_RawFree(m.umemo);
    m.umemo = NULL;
    result = export_zdd(&ctx, r);

done:
    if (have_ctx) ctx_free(&ctx);
    map_free(&m.lmemo);
    PyMem_RawFree(m.umemo);
    PyMem_RawFree(m.st);
    PyMem_RawFree(m.ln);
    PyMem_RawFree(m.chain);
    PyMem_RawFree(level);
    PyMem_RawFree(high);
    PyMem_RawFree(low);
    PyMem_RawFree(long0);
    PyMem_RawFree(long1);
    PyMem_RawFree(te);
    src_close(&fl);
    src_close(&fh);
    src_close(&fo);
    return result;
}

/* ------------------------------------------------------------------------------------------------------ */
/* Whole-family passes                                                                                      */

typedef struct {
    Src fv, fh, fl;
    int32_t root;
    uint8_t *mark; /* node -> reachable from root */
    int32_t *hi, *lo, *var;
} Family;

static void family_free(Family *F) {
    src_close(&F->fv);
    src_close(&F->fh);
    src_close(&F->fl);
    PyMem_RawFree(F->mark);
    PyMem_RawFree(F->hi);
    PyMem_RawFree(F->lo);
    PyMem_RawFree(F->var);
}

/* Marks the nodes reachable from root and reads their children (and their variables if var_limit >= 0:
 * each must be in [0, var_limit)). Only reachable nodes are read. */
static int family_load(Family *F, PyObject *ov, PyObject *oh, PyObject *ol, Py_ssize_t root, Py_ssize_t var_limit) {
    memset(F, 0, sizeof(*F));
    if (src_open(&F->fv, ov, "var", "var must be a sequence") < 0 ||
        src_open(&F->fh, oh, "hi", "hi must be a sequence") < 0 || src_open(&F->fl, ol, "lo", "lo must be a sequence") < 0)
        return -1;
    Py_ssize_t n = src_len(&F->fh);
    if (n < 2 || src_len(&F->fl) != n || src_len(&F->fv) != n) {
        PyErr_SetString(PyExc_ValueError, "var, hi and lo must have the same length >= 2");
        return -1;
    }
    if (n > INT32_MAX - 1) {
        PyErr_SetString(PyExc_ValueError, "ZDD too large");
        return -1;
    }
    if (root < 0 || root >= n) {
        PyErr_Format(PyExc_ValueError, "root %zd out of range", root);
        return -1;
    }
    F->root = (int32_t)root;
    size_t size = (size_t)root + 1;
    F->mark = xcalloc(size, 1);
    F->hi = xmalloc(size, sizeof(int32_t));
    F->lo = xmalloc(size, sizeof(int32_t));
    F->var = var_limit >= 0 ? xmalloc(size, sizeof(int32_t)) : NULL;
    if (F->mark == NULL || F->hi == NULL || F->lo == NULL || (var_limit >= 0 && F->var == NULL)) return -1;
    F->mark[root] = 1;
    for (Py_ssize_t i = root; i > BASE; i--) {
        if (!F->mark[i]) continue;
        long long h, l;
        if (src_get(&F->fh, i, 0, i - 1, &h, "hi") < 0 || src_get(&F->fl, i, 0, i - 1, &l, "lo") < 0) {
            if (PyErr_ExceptionMatches(PyExc_ValueError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_ValueError, "node %zd: children must be numbered below their parent", i);
            }
            return -1;
        }
        F->hi[i] = (int32_t)h;
        F->lo[i] = (int32_t)l;
        F->mark[h] = F->mark[l] = 1;
        if (var_limit >= 0) {
            long long v;
            if (src_get(&F->fv, i, 0, var_limit - 1, &v, "var") < 0) return -1;
            F->var[i] = (int32_t)v;
        }
    }
    return 0;
}

/* count_by_order keeps, per node, the counts of the orders first..first+len-1 (leading and trailing zero
 * counts dropped): a chain of n nodes holding one long set then needs O(n) memory, not O(n^2). */

/* The same with Python ints (after a 64-bit overflow). */
static PyObject *count_pylong(const Family *F, int32_t *first) {
    int32_t root = F->root;
    PyObject **tab = xcalloc((size_t)root + 1, sizeof(PyObject *)); /* node -> list of counts */
    PyObject *result = NULL, *zero = NULL;
    if (tab == NULL) return NULL;
    zero = PyLong_FromLong(0);
    tab[EMPTY] = PyList_New(0);
    tab[BASE] = Py_BuildValue("[i]", 1);
    if (zero == NULL || tab[EMPTY] == NULL || tab[BASE] == NULL) goto done;
    first[EMPTY] = first[BASE] = 0;
    for (int32_t i = 2; i <= root; i++) {
        if (!F->mark[i]) continue;
        PyObject *h = tab[F->hi[i]], *l = tab[F->lo[i]];
        Py_ssize_t nh = PyList_GET_SIZE(h), nl = PyList_GET_SIZE(l);
        int32_t fh = first[F->hi[i]] + 1, fl = first[F->lo[i]];
        int32_t lo_ord, hi_ord; /* order range, exclusive end */
        if (nh == 0 && nl == 0) {
            lo_ord = hi_ord = 0;
        } else if (nh == 0) {
            lo_ord = fl;
            hi_ord = fl + (int32_t)nl;
        } else if (nl == 0) {
            lo_ord = fh;
            hi_ord = fh + (int32_t)nh;
        } else {
            lo_ord = fh < fl ? fh : fl;
            hi_ord = fh + (int32_t)nh > fl + (int32_t)nl ? fh + (int32_t)nh : fl + (int32_t)nl;
        }
        PyObject *acc = PyList_New(hi_ord - lo_ord);
        if (acc == NULL) goto done;
        tab[i] = acc;
        first[i] = lo_ord;
        for (int32_t o = lo_ord; o < hi_ord; o++) {
            PyObject *a = (o >= fl && o - fl < nl) ? PyList_GET_ITEM(l, o - fl) : zero;
            PyObject *b = (o >= fh && o - fh < nh) ? PyList_GET_ITEM(h, o - fh) : zero;
            PyObject *sum = PyNumber_Add(a, b);
            if (sum == NULL) goto done;
            PyList_SET_ITEM(acc, o - lo_ord, sum);
        }
    }
    result = PyDict_New();
    if (result == NULL) goto done;
    PyObject *top = tab[root];
    for (Py_ssize_t j = 0; j < PyList_GET_SIZE(top); j++) {
        PyObject *c = PyList_GET_ITEM(top, j);
        int nz = PyObject_IsTrue(c);
        if (nz < 0) goto fail;
        if (!nz) continue;
        PyObject *key = PyLong_FromSsize_t(first[root] + j);
        if (key == NULL || PyDict_SetItem(result, key, c) < 0) {
            Py_XDECREF(key);
            goto fail;
        }
        Py_DECREF(key);
    }
    goto done;
fail:
    Py_CLEAR(result);
done:
    for (int32_t i = 0; i <= root; i++) Py_XDECREF(tab[i]);
    PyMem_RawFree(tab);
    Py_XDECREF(zero);
    return result;
}

PyDoc_STRVAR(count_by_order_doc,
             "count_by_order(var, hi, lo, root) -> dict[int, int]\n\n"
             "Number of sets of each size in the family under root (as Zdd.count_by_order).");

static PyObject *py_count_by_order(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *kwlist[] = {"var", "hi", "lo", "root", NULL};
    PyObject *ov, *oh, *ol;
    Py_ssize_t root;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOn:count_by_order", kwlist, &ov, &oh, &ol, &root)) return NULL;
    Family F;
    PyObject *result = NULL;
    size_t *off = NULL;
    int32_t *len = NULL, *first = NULL;
    uint64_t *pool = NULL;
    size_t pcap = 0, psize = 0;
    if (family_load(&F, ov, oh, ol, root, -1) < 0) goto done;
    if (root == EMPTY) {
        result = PyDict_New();
        goto done;
    }
    if (root == BASE) {
        result = Py_BuildValue("{i:i}", 0, 1);
        goto done;
    }
    off = xmalloc((size_t)root + 1, sizeof(size_t));
    len = xmalloc((size_t)root + 1, sizeof(int32_t));
    first = xmalloc((size_t)root + 1, sizeof(int32_t));
    if (off == NULL || len == NULL || first == NULL || grow((void **)&pool, &pcap, 1, sizeof(uint64_t)) < 0) goto done;
    off[EMPTY] = off[BASE] = 0;
    len[EMPTY] = 0;
    len[BASE] = 1;
    first[EMPTY] = first[BASE] = 0;
    pool[0] = 1;
    psize = 1;
    int overflow = 0;
    for (int32_t i = 2; i <= root && !overflow; i++) {
        if (!F.mark[i]) continue;
        int32_t h = F.hi[i], l = F.lo[i];
        int32_t nh = len[h], nl = len[l];
        int32_t fh = first[h] + 1, fl = first[l];
        int32_t lo_ord, hi_ord; /* order range, exclusive end */
        if (nh == 0 && nl == 0) {
            lo_ord = hi_ord = 0;
        } else if (nh == 0) {
            lo_ord = fl;
            hi_ord = fl + nl;
        } else if (nl == 0) {
            lo_ord = fh;
            hi_ord = fh + nh;
        } else {
            lo_ord = fh < fl ? fh : fl;
            hi_ord = fh + nh > fl + nl ? fh + nh : fl + nl;
        }
        int32_t size = hi_ord - lo_ord;
        if (grow((void **)&pool, &pcap, psize + (size_t)size, sizeof(uint64_t)) < 0) goto done;
        const uint64_t *ph = pool + off[h], *pl = pool + off[l];
        uint64_t *acc = pool + psize;
        for (int32_t o = lo_ord; o < hi_ord; o++) {
            uint64_t a = (o >= fl && o - fl < nl) ? pl[o - fl] : 0;
            uint64_t b = (o >= fh && o - fh < nh) ? ph[o - fh] : 0;
            uint64_t sum = a + b;
            if (sum < a) overflow = 1;
            acc[o - lo_ord] = sum;
        }
        int32_t start = 0;
        while (size > 0 && acc[size - 1] == 0) size--; /* zero counts change nothing */
        while (start < size && acc[start] == 0) start++;
        if (start > 0) memmove(acc, acc + start, (size_t)(size - start) * sizeof(uint64_t));
        off[i] = psize;
        first[i] = lo_ord + start;
        len[i] = size - start;
        psize += (size_t)(size - start);
    }
    if (overflow) {
        result = count_pylong(&F, first);
        goto done;
    }
    result = PyDict_New();
    if (result == NULL) goto done;
    for (int32_t j = 0; j < len[root]; j++) {
        uint64_t c = pool[off[root] + (size_t)j];
        if (c == 0) continue;
        PyObject *key = PyLong_FromLong(first[root] + j), *val = PyLong_FromUnsignedLongLong(c);
        int bad = key == NULL || val == NULL || PyDict_SetItem(result, key, val) < 0;
        Py_XDECREF(key);
        Py_XDECREF(val);
        if (bad) {
            Py_CLEAR(result);
            goto done;
        }
    }
done:
    family_free(&F);
    PyMem_RawFree(off);
    PyMem_RawFree(len);
    PyMem_RawFree(first);
    PyMem_RawFree(pool);
    return result;
}

PyDoc_STRVAR(power_sums_doc,
             "power_sums(var, hi, lo, root, probs, powers) -> list[float]\n\n"
             "[sum over sets S of P(S)**j for j = 1..powers], with the per-node arithmetic of Zdd.power_sums\n"
             "(bit-identical results).");

static PyObject *py_power_sums(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *kwlist[] = {"var", "hi", "lo", "root", "probs", "powers", NULL};
    PyObject *ov, *oh, *ol, *oprobs;
    Py_ssize_t root, powers;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOnOn:power_sums", kwlist, &ov, &oh, &ol, &root, &oprobs, &powers))
        return NULL;
    if (powers < 0) return PyErr_Format(PyExc_ValueError, "powers must be >= 0");
    /* probs: an array('d') read in place, or any sequence of numbers read (once per variable) as needed */
    Py_buffer pview;
    PyObject *fp = NULL;
    const double *pbuf = NULL;
    Py_ssize_t nprobs;
    int typed = typed_view(oprobs, "d", 8, &pview, "probs");
    if (typed < 0) return NULL;
    if (typed) {
        pbuf = (const double *)pview.buf;
        nprobs = pview.len / 8;
    } else {
        fp = PySequence_Fast(oprobs, "probs must be a sequence");
        if (fp == NULL) return NULL;
        nprobs = PySequence_Fast_GET_SIZE(fp);
    }
    Family F;
    PyObject *result = NULL;
    int32_t *slot = NULL;
    double *val = NULL, *pcache = NULL;
    uint8_t *pknown = NULL;
    if (family_load(&F, ov, oh, ol, root, nprobs) < 0) goto done;
    /* slot: node -> row of `val`; row 0 EMPTY (zeros), row 1 BASE (ones). */
    slot = xmalloc((size_t)root + 1, sizeof(int32_t));
    if (slot == NULL) goto done;
    size_t rows = 2;
    for (int32_t i = 0; i <= root; i++) {
        if (i <= BASE)
            slot[i] = i;
        else if (F.mark[i])
            slot[i] = (int32_t)rows++;
    }
    size_t P = (size_t)powers;
    if (P != 0 && rows > SIZE_MAX / sizeof(double) / P) {
        PyErr_NoMemory();
        goto done;
    }
    val = xmalloc(rows * (P ? P : 1), sizeof(double));
    pcache = xmalloc((size_t)nprobs, sizeof(double));
    pknown = xcalloc((size_t)nprobs, 1);
    if (val == NULL || pcache == NULL || pknown == NULL) goto done;
    for (size_t j = 0; j < P; j++) {
        val[j] = 0.0;
        val[P + j] = 1.0;
    }
    for (int32_t i = 2; i <= root; i++) {
        if (!F.mark[i]) continue;
        int32_t v = F.var[i];
        if (pbuf) {
            pcache[v] = pbuf[v]; /* v < nprobs, the buffer's fixed length (family_load) */
            pknown[v] = 1;
        } else if (!pknown[v]) {
            if (v >= PySequence_Fast_GET_SIZE(fp)) {
                PyErr_SetString(PyExc_ValueError, "probs changed size during the call");
                goto done;
            }
            PyObject *item = PySequence_Fast_GET_ITEM(fp, v);
            Py_INCREF(item); /* its __float__ may run any code */
            double p = PyFloat_AsDouble(item);
            Py_DECREF(item);
            if (p == -1.0 && PyErr_Occurred()) goto done;
            pcache[v] = p;
            pknown[v] = 1;
        }
        double p = pcache[v];
        const double *h = val + (size_t)slot[F.hi[i]] * P, *l = val + (size_t)slot[F.lo[i]] * P;
        double *acc = val + (size_t)slot[i] * P;
        double pj = 1.0;
        for (size_t j = 0; j < P; j++) {
            pj *= p;
            acc[j] = l[j] + pj * h[j];
        }
    }
    result = PyList_New(powers);
    if (result == NULL) goto done;
    const double *top = val + (size_t)slot[root] * P;
    for (size_t j = 0; j < P; j++) {
        PyObject *x = PyFloat_FromDouble(top[j]);
        if (x == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, (Py_ssize_t)j, x);
    }
done:
    Py_XDECREF(fp);
    PyBuffer_Release(&pview); /* nothing when no buffer is held */
    family_free(&F);
    PyMem_RawFree(slot);
    PyMem_RawFree(val);
    PyMem_RawFree(pcache);
    PyMem_RawFree(pknown);
    return result;
}

/* ------------------------------------------------------------------------------------------------------ */
/* Listing the sets                                                                                         */

PyDoc_STRVAR(ranked_sets_doc,
             "ranked_sets(var, hi, lo, root, rank) -> list[tuple[int, ...]]\n\n"
             "Every set of the family, in the order of Zdd.iterate, each as the ascending tuple of its\n"
             "variables' ranks: [tuple(sorted(rank[v] for v in s)) for s in Zdd.iterate(root)]. Callers bound\n"
             "the count first (count_by_order).\n\n"
             "flat=True returns the same sets as two bytes objects of native int32: the ranks of every set one\n"
             "after the other, and the end offset of each set in them (4 bytes an item, where a tuple of small\n"
             "ints costs about 60 bytes plus 8 an item: listing 100,000 sets of a tie band so took 10 MiB).");

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* What the walk does with each set: count it, copy it into flat arrays, or append it as a tuple. */
typedef struct {
    int mode; /* 0: count, 1: fill the flat arrays, 2: append tuples to list */
    size_t nitems, nsets;
    int32_t *items, *ends; /* mode 1: sized by a counting walk */
    PyObject *list;        /* mode 2 */
} SetSink;

static int sink_set(SetSink *k, const int32_t *set, int32_t depth) {
    if (k->mode == 0) {
        if (k->nitems + (size_t)depth > (size_t)INT32_MAX) {
            PyErr_NoMemory();
            return -1;
        }
    } else if (k->mode == 1) {
        memcpy(k->items + k->nitems, set, (size_t)depth * sizeof(int32_t));
        k->ends[k->nsets] = (int32_t)(k->nitems + (size_t)depth);
    } else {
        PyObject *t = PyTuple_New(depth);
        if (t == NULL) return -1;
        for (int32_t j = 0; j < depth; j++) {
            PyObject *v = PyLong_FromLong(set[j]);
            if (v == NULL) {
                Py_DECREF(t);
                return -1;
            }
            PyTuple_SET_ITEM(t, j, v);
        }
        int bad = PyList_Append(k->list, t) < 0;
        Py_DECREF(t);
        if (bad) return -1;
    }
    k->nitems += (size_t)depth;
    k->nsets++;
    return 0;
}

/* Every set of the family in the order of Zdd.iterate, each sorted, into the sink. Depth first: the stack
 * holds the then-branches still to visit as (node, depth, rank taken), and the path array the ranks on the
 * way down. An entry's prefix is path[0:depth-1] when it is popped: every entry pushed after it has the
 * same or a longer prefix and is done by then, so nothing rewrote that part of the path. The memory is the
 * walk's depth and stack, not a cell per step of every set (which took 12 bytes a step: several MiB on a
 * band of 100,000 tied sets). */
static int walk_sets(const Family *F, const int32_t *rank, Py_ssize_t nvars, SetSink *k) {
    int32_t *stack_node = NULL, *stack_depth = NULL, *stack_rank = NULL, *path = NULL, *buf = NULL;
    size_t scap = 0, scap2 = 0, scap3 = 0, nstack = 0;
    unsigned steps = 0;
    int rc = -1;
    /* a set has at most one item per variable; the path is never longer */
    size_t plen = (size_t)nvars + 1;
    path = PyMem_RawMalloc(plen * sizeof(int32_t));
    buf = PyMem_RawMalloc(plen * sizeof(int32_t));
    if (path == NULL || buf == NULL) {
        PyErr_NoMemory();
        goto out;
    }
    if (grow((void **)&stack_node, &scap, 1, sizeof(int32_t)) < 0 ||
        grow((void **)&stack_depth, &scap2, 1, sizeof(int32_t)) < 0 ||
        grow((void **)&stack_rank, &scap3, 1, sizeof(int32_t)) < 0)
        goto out;
    stack_node[0] = F->root;
    stack_depth[0] = 0;
    stack_rank[0] = -1;
    nstack = 1;
    while (nstack > 0) {
        nstack--;
        int32_t n = stack_node[nstack], d = stack_depth[nstack];
        if (d > 0) path[d - 1] = stack_rank[nstack];
        while (n > BASE) {
            if ((size_t)d >= plen) { /* a variable twice on one path: not a ZDD that family_load accepts */
                PyErr_SetString(PyExc_ValueError, "a set repeats a variable");
                goto out;
            }
            if (grow((void **)&stack_node, &scap, nstack + 1, sizeof(int32_t)) < 0 ||
                grow((void **)&stack_depth, &scap2, nstack + 1, sizeof(int32_t)) < 0 ||
                grow((void **)&stack_rank, &scap3, nstack + 1, sizeof(int32_t)) < 0)
                goto out;
            stack_node[nstack] = F->hi[n];
            stack_depth[nstack] = d + 1;
            stack_rank[nstack] = rank[F->var[n]];
            nstack++;
            n = F->lo[n];
        }
        if (n != BASE) continue;
        memcpy(buf, path, (size_t)d * sizeof(int32_t));
        qsort(buf, (size_t)d, sizeof(int32_t), cmp_i32);
        if (sink_set(k, buf, d) < 0) goto out;
        if (++steps % SIGNAL_PERIOD == 0 && PyErr_CheckSignals() < 0) goto out;
    }
    rc = 0;
out:
    PyMem_RawFree(stack_node);
    PyMem_RawFree(stack_depth);
    PyMem_RawFree(stack_rank);
    PyMem_RawFree(path);
    PyMem_RawFree(buf);
    return rc;
}

static PyObject *py_ranked_sets(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *kwlist[] = {"var", "hi", "lo", "root", "rank", "flat", NULL};
    PyObject *ov, *oh, *ol, *orank;
    Py_ssize_t root;
    int flat = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOnO|$p:ranked_sets", kwlist, &ov, &oh, &ol, &root, &orank,
                                     &flat))
        return NULL;
    Family F;
    Src rs;
    memset(&F, 0, sizeof(F));
    memset(&rs, 0, sizeof(rs));
    PyObject *result = NULL, *items = NULL, *ends = NULL;
    int32_t *rank = NULL;
    Py_ssize_t nvars;
    SetSink k;
    memset(&k, 0, sizeof(k));
    if (src_open(&rs, orank, "rank", "rank must be a sequence") < 0) goto done;
    nvars = src_len(&rs);
    if (family_load(&F, ov, oh, ol, root, nvars) < 0) goto done;
    rank = src_i32(&rs, nvars, "rank", 0, INT32_MAX);
    if (rank == NULL) goto done;
    if (!flat) {
        k.mode = 2;
        k.list = PyList_New(0);
        if (k.list == NULL) goto done;
        if (walk_sets(&F, rank, nvars, &k) < 0) {
            Py_CLEAR(k.list);
            goto done;
        }
        result = k.list;
        goto done;
    }
    /* Flat: a counting walk sizes the two bytes objects, a second walk fills them in place (no growing
     * buffer and no copy: the peak is the result itself). */
    if (walk_sets(&F, rank, nvars, &k) < 0) goto done;
    items = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(k.nitems * sizeof(int32_t)));
    ends = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(k.nsets * sizeof(int32_t)));
    if (items == NULL || ends == NULL) goto done;
    k.mode = 1;
    k.items = (int32_t *)PyBytes_AS_STRING(items);
    k.ends = (int32_t *)PyBytes_AS_STRING(ends);
    k.nitems = k.nsets = 0;
    if (walk_sets(&F, rank, nvars, &k) < 0) goto done;
    result = PyTuple_Pack(2, items, ends);
done:
    Py_XDECREF(items);
    Py_XDECREF(ends);
    family_free(&F);
    src_close(&rs);
    PyMem_RawFree(rank);
    return result;
}

/* ------------------------------------------------------------------------------------------------------ */

static PyMethodDef methods[] = {
    {"minimal_solutions", (PyCFunction)(void (*)(void))py_minimal_solutions, METH_VARARGS | METH_KEYWORDS,
     minimal_solutions_doc},
    {"count_by_order", (PyCFunction)(void (*)(void))py_count_by_order, METH_VARARGS | METH_KEYWORDS,
     count_by_order_doc},
    {"power_sums", (PyCFunction)(void (*)(void))py_power_sums, METH_VARARGS | METH_KEYWORDS, power_sums_doc},
    {"ranked_sets", (PyCFunction)(void (*)(void))py_ranked_sets, METH_VARARGS | METH_KEYWORDS, ranked_sets_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "safetyops_dsl.fta._zddk",
    "Minimal cut sets (Rauzy's minsol from a flat BDD into a ZDD) and whole-family ZDD passes, in C.",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__zddk(void) { return PyModule_Create(&module); }
