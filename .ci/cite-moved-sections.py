# Rewrites `README, "Section"` citations of sections that moved into docs/ (issue 25).
import re, subprocess, sys
moved = {
 'Cron jobs and any CI': 'getting-started', 'GitHub Action': 'getting-started', 'Outputs': 'getting-started',
 'Install outside GitHub Actions': 'getting-started', 'What it does': 'getting-started',
 'Supported runners': 'getting-started', 'How the binary is fetched': 'getting-started', 'Pinning': 'getting-started',
 'Delivery': 'delivery', 'Escalation': 'escalation', 'Exit codes': 'reference', 'Options': 'reference',
 'Output': 'reference', 'Placeholders': 'reference', 'Inputs': 'reference',
 'Incidents': 'incidents', 'Several incident platforms': 'incidents', 'Language': 'language',
 'One alert for a whole workflow': 'noise-control', 'Page once': 'noise-control', 'Paged means': 'noise-control',
 'SMS': 'sms', 'Security': 'security', 'Voice calls': 'voice', 'Webhooks': 'webhooks',
 'Header security': 'webhooks', 'Signing': 'webhooks', 'Body templates': 'webhooks', 'Slack and Discord': 'webhooks',
 'The URL and the answers': 'webhooks', 'onfail serve': 'service', 'How it is built': 'service',
 'Benchmarks': 'benchmarks',
}
def page(section):
    # the longest key the section starts with ('Output' vs 'Outputs')
    keys = [k for k in moved if section.startswith(k) or k.startswith(section)]
    exact = [k for k in keys if section == k]
    if exact: return moved[exact[0]]
    keys = [k for k in moved if section.startswith(k)]
    if not keys: return None
    return moved[max(keys, key=len)]
for path in sys.argv[1:]:
    text = open(path).read()
    def rep(m):
        sec = m.group(1)
        p = page(sec)
        if p is None:
            print(path, 'unmapped', repr(sec), file=sys.stderr); return m.group(0)
        sec = sec.replace('"Inputs', '"Action inputs')
        return 'docs/%s.md, "%s' % (p, 'Action inputs' if sec == 'Inputs' else sec)
    new = re.sub(r'README, "([^"\n]*)', rep, text)
    if new != text:
        open(path, 'w').write(new)
