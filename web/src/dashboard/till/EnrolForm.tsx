/**
 * Enrolling a shopper at the till in a few seconds: the phone (already typed to find
 * them), optionally a name and a Jalali birthday, and the consents — each asked, never
 * ticked in advance, and sent exactly as the person chose (the API's own default for SMS
 * is yes; this form always sends the answer).
 */
import { Button, Checkbox, Group, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { type SubmitEvent, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation } from 'urql';

import { graphql } from '../../gql/node';
import { formatPhone, normalizeDigits, parseJalaliDate, parseMobile } from '../../shared/format';
import { type MemberView, ProblemAlert, problemCode } from './common';

const EnrolMember = graphql(`
  mutation TillEnrolMember($input: EnrolMemberInput!) {
    enrolMember(input: $input) {
      __typename
      ...TillMember
      ... on Problem {
        code
      }
    }
  }
`);

/** "۱۳۷۰/۵/۱۲" → "1370/05/12", or null when it is no real Jalali day. */
function birthdayForApi(text: string): string | null {
  if (!parseJalaliDate(text)) return null;
  const [year, month, day] = normalizeDigits(text.trim()).split(/\s*[/\-.]\s*/);
  return `${year ?? ''}/${(month ?? '').padStart(2, '0')}/${(day ?? '').padStart(2, '0')}`;
}

export function EnrolForm(props: {
  phone: string | null;
  onEnrolled: (member: MemberView) => void;
  onCancel: () => void;
}) {
  const { t, i18n } = useTranslation();
  const [phone, setPhone] = useState(() =>
    props.phone ? formatPhone(props.phone, i18n.language) : '',
  );
  const nameField = useRef<HTMLInputElement>(null);
  const phoneField = useRef<HTMLInputElement>(null);
  useEffect(() => {
    // The phone typed to find her is there: the name comes next (else the phone).
    (props.phone ? nameField : phoneField).current?.focus();
  }, [props.phone]);
  const [name, setName] = useState('');
  const [birthday, setBirthday] = useState('');
  const [sms, setSms] = useState(false);
  const [promotional, setPromotional] = useState(false);
  const [partners, setPartners] = useState(false);
  const [checked, setChecked] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [{ fetching }, enrol] = useMutation(EnrolMember);

  const e164 = parseMobile(phone);
  const birthdayValue = birthday.trim() === '' ? null : birthdayForApi(birthday);
  const birthdayBad = birthday.trim() !== '' && birthdayValue === null;

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    setChecked(true);
    setProblem(null);
    if (!e164 || birthdayBad) return;
    const answer = await enrol({
      input: {
        phone: e164,
        name: name.trim() === '' ? null : name.trim(),
        birthday: birthdayValue,
        consentSms: sms,
        consentPromotional: promotional,
        consentPartnerSharing: partners,
      },
    });
    const result = answer.data?.enrolMember;
    if (result?.__typename === 'Member') {
      props.onEnrolled(result);
      return;
    }
    setProblem(result ? problemCode(result) : 'UNKNOWN');
  };

  return (
    <Paper withBorder p="md" radius="md" component="section" aria-labelledby="enrol-title">
      <form onSubmit={(event) => void submit(event)} noValidate>
        <Stack gap="sm">
          <Title order={2} size="h4" id="enrol-title">
            {t('till.enrol.title')}
          </Title>
          <Text size="sm" c="dimmed">
            {t('till.enrol.intro')}
          </Text>
          <TextInput
            ref={phoneField}
            label={t('till.enrol.phone')}
            value={phone}
            onChange={(event) => {
              setPhone(event.currentTarget.value);
            }}
            error={checked && !e164 ? t('till.enrol.phoneInvalid') : undefined}
            dir="ltr"
            inputMode="tel"
            autoComplete="off"
            required
          />
          <TextInput
            ref={nameField}
            label={t('till.enrol.name')}
            value={name}
            onChange={(event) => {
              setName(event.currentTarget.value);
            }}
            autoComplete="off"
          />
          <TextInput
            label={t('till.enrol.birthday')}
            description={t('till.enrol.birthdayHint')}
            value={birthday}
            onChange={(event) => {
              setBirthday(event.currentTarget.value);
            }}
            error={birthdayBad ? t('till.enrol.birthdayInvalid') : undefined}
            dir="ltr"
            autoComplete="off"
          />
          <Stack gap="xs" role="group" aria-labelledby="consents-title">
            <Text size="sm" fw={600} id="consents-title">
              {t('till.enrol.consents')}
            </Text>
            <Checkbox
              label={t('till.enrol.consentSms')}
              checked={sms}
              onChange={(event) => {
                setSms(event.currentTarget.checked);
              }}
            />
            <Checkbox
              label={t('till.enrol.consentPromotional')}
              checked={promotional}
              onChange={(event) => {
                setPromotional(event.currentTarget.checked);
              }}
            />
            <Checkbox
              label={t('till.enrol.consentPartners')}
              checked={partners}
              onChange={(event) => {
                setPartners(event.currentTarget.checked);
              }}
            />
          </Stack>
          <ProblemAlert code={problem} />
          <Group gap="sm">
            <Button type="submit" loading={fetching}>
              {t('till.enrol.submit')}
            </Button>
            <Button variant="default" onClick={props.onCancel}>
              {t('till.cancel')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}
