/**
 * What the shopper app's directory shows of a shop — names in Persian and English,
 * category, floor and unit — as form fields (shared with registering), and the form that
 * changes them (updateShopDetails). A refused field shows its problem at the field.
 */
import { Select, SimpleGrid, TextInput } from '@mantine/core';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMutation } from 'urql';

import { CATEGORIES, shopName, useCategoryName } from '../../shared/shops';
import { graphql } from '../../gql/hub';
import { Dialog, DialogForm, fieldError, type Problem } from '../overview/parts';

export interface ShopRow {
  slug: string;
  nameFa: string;
  nameEn: string;
  category: string;
  floor?: string | null;
  unit?: string | null;
  status: string;
}

export interface Details {
  nameFa: string;
  nameEn: string;
  category: string;
  floor: string;
  unit: string;
}

const UpdateShopDetails = graphql(`
  mutation ConsoleUpdateShopDetails($slug: String!, $input: ShopDetailsInput!) {
    updateShopDetails(slug: $slug, input: $input) {
      __typename
      ... on Shop {
        slug
        nameFa
        nameEn
        category
        floor
        unit
      }
      ... on HubProblem {
        code
        field
      }
    }
  }
`);

/** The input the API takes: empty floor or unit as none. */
export function detailsInput(details: Details) {
  return {
    nameFa: details.nameFa,
    nameEn: details.nameEn,
    category: details.category,
    floor: details.floor.trim() || null,
    unit: details.unit.trim() || null,
  };
}

export function ShopFields({
  value,
  onChange,
  problem,
}: {
  value: Details;
  onChange: (value: Details) => void;
  problem: Problem | null;
}) {
  const { t } = useTranslation();
  const categoryName = useCategoryName();
  const text = (field: 'nameFa' | 'nameEn' | 'floor' | 'unit') => ({
    value: value[field],
    error: fieldError(t, problem, field),
    onChange: (event: React.ChangeEvent<HTMLInputElement>) => {
      onChange({ ...value, [field]: event.currentTarget.value });
    },
  });
  return (
    <>
      <SimpleGrid cols={{ base: 1, sm: 2 }}>
        <TextInput label={t('mallShops.field.nameFa')} required dir="rtl" lang="fa" {...text('nameFa')} />
        <TextInput label={t('mallShops.field.nameEn')} required dir="ltr" lang="en" {...text('nameEn')} />
      </SimpleGrid>
      <Select
        label={t('mallShops.field.category')}
        required
        allowDeselect={false}
        data={CATEGORIES.map((category) => ({ value: category, label: categoryName(category) }))}
        value={value.category}
        error={fieldError(t, problem, 'category')}
        onChange={(category) => {
          if (category) onChange({ ...value, category });
        }}
      />
      <SimpleGrid cols={2}>
        <TextInput label={t('mallShops.field.floor')} maxLength={10} {...text('floor')} />
        <TextInput label={t('mallShops.field.unit')} maxLength={20} {...text('unit')} />
      </SimpleGrid>
    </>
  );
}

export function ShopDetails({ shop, onClose }: { shop: ShopRow; onClose: () => void }) {
  const { t, i18n } = useTranslation();
  const [details, setDetails] = useState<Details>({
    nameFa: shop.nameFa,
    nameEn: shop.nameEn,
    category: shop.category,
    floor: shop.floor ?? '',
    unit: shop.unit ?? '',
  });
  const [problem, setProblem] = useState<Problem | null>(null);
  const [{ fetching }, update] = useMutation(UpdateShopDetails);
  async function save() {
    const result = (await update({ slug: shop.slug, input: detailsInput(details) })).data
      ?.updateShopDetails;
    if (!result) setProblem({ code: 'UNKNOWN' });
    else if (result.__typename !== 'Shop') setProblem(result);
    else onClose();
  }
  return (
    <Dialog onClose={onClose} title={t('mallShops.edit.title', { name: shopName(shop, i18n.language) })} size="lg">
      <DialogForm
        onSubmit={() => void save()}
        onCancel={onClose}
        submitLabel={t('mallOverview.common.save')}
        fetching={fetching}
        problem={problem}
      >
        <ShopFields value={details} onChange={setDetails} problem={problem} />
      </DialogForm>
    </Dialog>
  );
}
