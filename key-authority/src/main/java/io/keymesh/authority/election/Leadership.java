package io.keymesh.authority.election;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;

/**
 * Proof of having won one election: the leader key and the revision that created it. Every
 * leader write compares that create revision, so once the key is gone (lease expired, resigned)
 * or belongs to a newer term, the write fails: a deposed leader can never write.
 */
public record Leadership(ByteSequence leaderKey, long createRevision, long leaseId) {

    public Cmp fence() {
        return new Cmp(leaderKey, Cmp.Op.EQUAL, CmpTarget.createRevision(createRevision));
    }
}
