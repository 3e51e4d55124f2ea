/* Shared by the fault-tree kernels _bddk.c and _zddk.c (each includes it; both are built by setup.py).
 * Include after <Python.h> and <string.h>. */
#ifndef SOPS_KERNEL_BUFFERS_H
#define SOPS_KERNEL_BUFFERS_H

/* 1 and a held view (release it with PyBuffer_Release) if obj exports a contiguous 1-D buffer of native
 * items of itemsize bytes whose struct code is one of `codes` (array('i') / array('d'), a memoryview of one,
 * a NumPy int32 / float64 vector): the caller reads the items in place. 0 and no view (view->obj NULL) for
 * anything else, which the caller reads as a sequence: a buffer of another format (array('q'), bytes) or a
 * strided one is converted item by item, as a list is. -1 (TypeError) for a buffer of more than one
 * dimension, which is no sequence of numbers. */
static inline int typed_view(PyObject *obj, const char *codes, Py_ssize_t itemsize, Py_buffer *view, const char *what) {
    view->obj = NULL;
    if (!PyObject_CheckBuffer(obj)) return 0;
    if (PyObject_GetBuffer(obj, view, PyBUF_FULL_RO) < 0) {
        PyErr_Clear(); /* the exporter offers no such view: read obj as a sequence */
        view->obj = NULL;
        return 0;
    }
    if (view->ndim != 1) {
        PyErr_Format(PyExc_TypeError, "%s must be one-dimensional, not a %d-dimensional buffer", what, view->ndim);
        PyBuffer_Release(view); /* sets view->obj to NULL */
        return -1;
    }
    const char *fmt = view->format ? view->format : "B";
    if (*fmt == '@' || *fmt == '=' || *fmt == (PY_LITTLE_ENDIAN ? '<' : '>')) fmt++;
    if (view->itemsize == itemsize && fmt[0] != '\0' && strchr(codes, fmt[0]) && fmt[1] == '\0' &&
        view->suboffsets == NULL && (view->strides == NULL || view->strides[0] == itemsize) &&
        view->len == view->shape[0] * itemsize)
        return 1;
    PyBuffer_Release(view);
    return 0;
}

#endif
