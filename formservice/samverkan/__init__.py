"""Samverkan: the parties of a Samordningsförbund working on one individ's process.

Each authority keeps its own ärende; a hand-over (a produced förfrågan, anmälan, SIP-kallelse or
ansökan) is sent to another party's enhet only while an active samtycke covers that party, and
links the sender's ärende to the recipient's when it is accepted. The recipient answers online;
the answer sets the sender's status. See docs/samverkan.md.
May import arenden, doctor and what they may import; only web and cli import this wing."""
