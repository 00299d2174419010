package dev.bully.core;

/**
 * The term and the promise of one node: what it keeps on disk before it acts on them, because one
 * coordinator per term rests on them. The term never goes down; a higher term starts with no
 * promise; a claim raises the term and promises the claimer itself. Every change asks for the
 * output to be persisted before anything it carries is sent.
 */
final class TermAndPromise {
  private long term;
  private int promisedTo;

  TermAndPromise(DurableState durable) {
    this.term = durable.term();
    this.promisedTo = durable.promisedTo();
  }

  long term() {
    return term;
  }

  /** The node this node acknowledged as coordinator in this term, 0 for none. */
  int promisedTo() {
    return promisedTo;
  }

  DurableState state() {
    return new DurableState(term, promisedTo);
  }

  /** A higher term, seen from another node: no promise in it yet. */
  void adopt(long higherTerm, OutputBuilder out) {
    term = higherTerm;
    promisedTo = 0;
    out.persist();
  }

  /** The next term, promised to {@code claimer} (this node, claiming it). Returns the new term. */
  long raiseFor(int claimer, OutputBuilder out) {
    term = term + 1;
    promisedTo = claimer;
    out.persist();
    return term;
  }

  /** Promises {@code claimer} this term. */
  void promise(int claimer, OutputBuilder out) {
    if (promisedTo != claimer) {
      promisedTo = claimer;
      out.persist();
    }
  }
}
