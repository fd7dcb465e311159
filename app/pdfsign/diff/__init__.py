"""What changed in a PDF after a signature was made.

A signature covers the bytes of one revision. Later incremental updates are
legitimate when they only add further signatures, and an attack when they change
what the signer saw. This package compares the signed revision with the final one,
object by object, and grades the result in the spirit of pyHanko's
``ModificationLevel``:

``none`` < ``signature_added`` < ``form_filled`` < ``modified``

What is compared
----------------
* Every object number whose xref entry differs between the signed revision and
  the final one is loaded from both revisions (with :mod:`..pdfstructure`, not a
  repairing PDF library) and compared **by value**: dictionaries key by key,
  arrays item by item, references by number, streams by dictionary and raw data.
  Objects rewritten with identical values count as unchanged. Members of an object
  stream that a later update replaced are compared too, although their xref entries
  did not change.
* The signed revision is only what its bytes hold: an xref entry or /Prev that
  points past the revision's end is free/dangling there. The **object graph** the
  signed revision resolves to is frozen: a number it refers to but does not define
  (a free or missing object, a dangling reference) may not be defined later
  (:mod:`.references`).
* Each changed object is judged by the role it played in the **signed**
  revision (catalog, page, AcroForm, field, widget, appearance stream, signature
  dictionary, metadata, DSS, document info, xref/object stream; :mod:`.roles`).

Allowed (``signature_added``)
    new signature fields and their widgets (one or several, on any pages), with
    appearance streams and /Sig values; a previously empty signature field
    receiving /V, /AP, /AS, /MK, /DA; ``/AcroForm`` gaining /Fields entries that
    are signature fields, /SigFlags, /DR and /DA (unless the final form makes
    viewers regenerate appearances), /NeedAppearances turned off when no field had
    a value to regenerate; the catalog gaining /AcroForm; page ``/Annots`` arrays
    (inline or indirect) gaining only signature widgets; DSS, XMP metadata,
    document info, /ID, xref and object-stream bookkeeping. Every signature widget
    that draws something must belong to a signature of its own that is intact and
    covers it; the verifier checks this with :attr:`ChangeReport.added_widgets`.
Allowed (``form_filled``), only after a certification signature with DocMDP /P 2 or 3
    /V, /AP, /AS of existing non-signature fields and their widgets, their
    appearance streams, /NeedAppearances turned on. After an approval signature the
    same changes are ``modified`` (``form_changed``): BidSeal is stricter than
    pyHanko here, because a reader then sees values the signer did not sign (the
    Hide and Replace shadow attacks use form fields). Like pyHanko, a widget's /BS,
    /MK or /DA changing is *not* form filling: it restyles the field.
Forbidden (``modified``)
    anything else, in particular changed page dictionaries or content streams,
    any other object replaced or deleted, fields or annotations removed, new
    non-signature fields, new annotations of any kind (named with kind, page and
    rectangle), a signed signature field or its /Sig dictionary or appearance
    touched, a replaced catalog or /Encrypt, bytes after the last ``%%EOF``,
    incremental updates containing anything besides registered objects, xref,
    trailer and ``%%EOF``, changes to fields the signature locks (FieldMDP,
    /Lock). A certification signature with DocMDP ``/P 1`` (or a /Lock with /P 1)
    forbids even new signatures.
"""

from app.pdfsign.diff.analysis import analyse_changes
from app.pdfsign.diff.model import (
    AddedWidget,
    Change,
    ChangeReport,
    FieldLock,
    ModificationLevel,
    worst,
)
from app.pdfsign.diff.values import same_value

__all__ = [
    "AddedWidget",
    "Change",
    "ChangeReport",
    "FieldLock",
    "ModificationLevel",
    "analyse_changes",
    "same_value",
    "worst",
]
