-- Attachments' chunks are stored sealed too (internal/sealed, each bound to
-- its attachment and place): a sealed chunk is its 512 KiB of content plus
-- the envelope (prefix, wrapped data key, nonce, tag), under a kilobyte.
ALTER TABLE petition_attachment_chunks DROP CONSTRAINT petition_attachment_chunks_data_check;
ALTER TABLE petition_attachment_chunks ADD CONSTRAINT petition_attachment_chunks_data_check
    CHECK (octet_length(data) BETWEEN 1 AND 524288 + 1024);
